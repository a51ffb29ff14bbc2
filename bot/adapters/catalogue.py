"""The message catalogue: shop/messages/<language>.yml, checked for parity and resolved.

One file per language holds everything the shopper reads; `<lang>-informal.yml` lays
the texts that differ for an informal address over `<lang>.yml`. Loading refuses a
catalogue whose languages differ in their keys or in a text's {placeholders}
(docs/languages.md, "The message catalogue").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from string import Formatter
from typing import Any

import yaml

from bot.domain.errors import ContentError
from bot.domain.questions import DEFAULT_LANGUAGE

MESSAGES_DIR = "messages"
"""The message catalogue's folder, inside the content folder (shop/messages/)."""

INFORMAL = "-informal"
"""`de-informal.yml`: the German texts that differ when the shop says "du"."""

ADDRESSES = ("formal", "informal")
WORDING_FIELDS = ("text", "why", "labels", "remember", "topic")
"""A question's fields that the shopper reads: in the catalogue, never in questions.yml."""

_CATALOGUE_NAME = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
"""A catalogue file's name: a lower-case language code, maybe with a region or `-informal`."""
_SHOWN_PROBLEMS = 25

Catalogue = Mapping[str, Mapping[str, Any]]
"""Each catalogue file's mapping by its name: {"en": {...}, "de": ..., "de-informal": ...}."""


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"cannot read {path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ContentError(f"{path} must hold a mapping at the top level")
    return loaded


def placeholders(text: str) -> frozenset[str]:
    """The names of a text's `{placeholders}` ("Only {channel}" -> {"channel"})."""
    try:
        return frozenset(name for _, name, _, _ in Formatter().parse(text) if name is not None)
    except ValueError as exc:
        raise ContentError(f"broken {{placeholder}} in {text!r}: {exc}") from None


def flatten(raw: Mapping[str, Any], where: str) -> dict[str, str]:
    """A catalogue file's texts by dotted key ("questions.device.labels.app")."""
    flat: dict[str, str] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for name, value in node.items():
            key = f"{prefix}{name}"
            if isinstance(value, Mapping):
                walk(value, f"{key}.")
            elif isinstance(value, str):
                flat[key] = value
            else:
                raise ContentError(f"{where}: {key} must be a text in quotes, not {value!r}")

    walk(raw, "")
    return flat


def _address(raw: Any, languages: list[str]) -> dict[str, str]:
    """questions.yml's `address`: one word for every language, or one per language."""
    chosen: dict[str, str] = dict.fromkeys(languages, "formal")
    if isinstance(raw, Mapping):
        unknown = sorted(set(map(str, raw)) - set(languages))
        if unknown:
            raise ContentError(f"address: no message catalogue for {unknown}")
        chosen.update({str(k): str(v) for k, v in raw.items()})
    elif raw is not None:
        chosen = dict.fromkeys(languages, str(raw))
    wrong = {lang: a for lang, a in chosen.items() if a not in ADDRESSES}
    if wrong:
        raise ContentError(f"address must be one of {ADDRESSES}, not {wrong}")
    return chosen


def _differences(name: str, texts: dict[str, str], reference: dict[str, str]) -> list[str]:
    """What is wrong with the texts of catalogue file `name` against English."""
    problems = [
        f"{name}: missing {key} (it is in {DEFAULT_LANGUAGE}.yml)"
        for key in reference
        if key not in texts
    ]
    if not name.endswith(INFORMAL):
        problems += [
            f"{name}: {key} is not in {DEFAULT_LANGUAGE}.yml"
            for key in texts
            if key not in reference
        ]
    for key, text in texts.items():
        try:
            have = placeholders(text)
            want = placeholders(reference[key]) if key in reference else have
        except ContentError as exc:
            problems.append(f"{name}: {key}: {exc}")
            continue
        if want != have:
            problems.append(
                f"{name}: {key} has placeholders {_braced(have)} where {DEFAULT_LANGUAGE}.yml "
                f"has {_braced(want)} (missing: {_braced(want - have)}, "
                f"extra: {_braced(have - want)})"
            )
    return problems


def _braced(names: frozenset[str]) -> str:
    return " ".join(f"{{{n}}}" for n in sorted(names)) or "none"


def resolve_catalogue(catalogue: Catalogue, address: Any = None) -> dict[str, dict[str, str]]:
    """Every language's texts by dotted key, checked and with the form of address applied.

    Every language has exactly the keys of English, each text with the same set of
    {placeholders}; an informal file (`de-informal`) has only keys of its language,
    with English's placeholders too. Raises ContentError naming every difference.
    """
    wrong_names = sorted(str(n) for n in catalogue if not _CATALOGUE_NAME.fullmatch(str(n)))
    if wrong_names:
        raise ContentError(
            f"message catalogue: {wrong_names} are not language codes (en, de, fr, pt-br, "
            f"de{INFORMAL})"
        )
    flat = {str(name): flatten(raw or {}, f"{name}.yml") for name, raw in catalogue.items()}
    if DEFAULT_LANGUAGE not in flat:
        raise ContentError(f"the message catalogue needs {DEFAULT_LANGUAGE}.yml, the reference")
    reference = flat[DEFAULT_LANGUAGE]
    languages = [n for n in flat if not n.endswith(INFORMAL)]
    problems = _differences(DEFAULT_LANGUAGE, reference, reference)
    for name, texts in flat.items():
        if name == DEFAULT_LANGUAGE:
            continue
        if name.endswith(INFORMAL):
            base = name.removesuffix(INFORMAL)
            if base not in flat:
                problems.append(f"{name}: there is no {base}.yml to vary")
                continue
            problems += [
                f"{name}: {key} is not in {base}.yml" for key in texts if key not in flat[base]
            ]
            reference_part = {k: v for k, v in reference.items() if k in texts}
            problems += _differences(name, texts, reference_part)
        else:
            problems += _differences(name, texts, reference)
    if problems:
        shown = problems[:_SHOWN_PROBLEMS]
        if len(problems) > len(shown):
            shown.append(f"and {len(problems) - len(shown)} more")
        raise ContentError("message catalogue: " + "; ".join(shown))
    resolved: dict[str, dict[str, str]] = {}
    for language, form in _address(address, languages).items():
        texts = dict(flat[language])
        if form == "informal":
            texts.update(flat.get(f"{language}{INFORMAL}", {}))
        resolved[language] = texts
    return resolved


def read_catalogue(directory: Path) -> dict[str, dict[str, Any]]:
    """Every `*.yml` in the message catalogue's folder, by name ("en", "de-informal")."""
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise ContentError(f"no message catalogue in {directory} (expected en.yml, de.yml, ...)")
    return {path.stem: read_yaml(path) for path in files}
