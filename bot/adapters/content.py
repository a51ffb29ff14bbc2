"""Loads the shop-editable content from YAML: question bank, vocabulary, purchase rules.

The question bank comes from two places: shop/questions.yml holds its structure (ids,
entity types, priorities, buttons, the withdrawal phrases, the form of address) and
shop/messages/<language>.yml everything the shopper reads, one file per language
(docs/languages.md). Loading refuses a catalogue whose languages differ in their keys
or in a text's {placeholders}.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.adapters.catalogue import (
    MESSAGES_DIR,
    WORDING_FIELDS,
    Catalogue,
    read_catalogue,
    read_yaml,
    resolve_catalogue,
)
from bot.domain.errors import ContentError
from bot.domain.model import PURPOSES
from bot.domain.patterns import PatternRules
from bot.domain.questions import (
    DEFAULT_LANGUAGE,
    EntityVocabulary,
    Question,
    QuestionBank,
    QuestionWording,
    Vocabulary,
    normalize_phrase,
    without_accents,
)


def parse_vocabulary(raw: dict[str, Any]) -> Vocabulary:
    """Build a Vocabulary from the mapping in shop/vocabulary.yml."""
    entities: dict[str, EntityVocabulary] = {}
    for entity, spec in raw.items():
        values: dict[str, list[str]] = dict(spec.get("values") or {})
        phrases: dict[str, tuple[str, ...]] = {}
        for value_id, value_phrases in values.items():
            for phrase in value_phrases:
                phrases[normalize_phrase(str(phrase))] = (str(value_id),)
        for phrase, meanings in (spec.get("ambiguous") or {}).items():
            unknown = [m for m in meanings if m not in values]
            if unknown:
                raise ContentError(f"{entity}: ambiguous {phrase!r} names unknown {unknown}")
            phrases[normalize_phrase(str(phrase))] = tuple(str(m) for m in meanings)
        entities[str(entity)] = EntityVocabulary(
            entity=str(entity), values=tuple(str(v) for v in values), phrases=phrases
        )
    return Vocabulary(entities=entities)


def _section(texts: dict[str, str], prefix: str) -> dict[str, str]:
    return {k.removeprefix(prefix): v for k, v in texts.items() if k.startswith(prefix)}


def _wording(texts: dict[str, str], question_id: str, language: str) -> QuestionWording:
    own = _section(texts, f"questions.{question_id}.")
    unknown = sorted({key.split(".", 1)[0] for key in own} - set(WORDING_FIELDS))
    if unknown:
        raise ContentError(f"{language}: questions.{question_id} has unknown fields {unknown}")
    for needed in ("text", "why"):
        if needed not in own:
            raise ContentError(f"{language}: missing questions.{question_id}.{needed}")
    return QuestionWording(
        text=own["text"],
        why=own["why"],
        labels=_section(own, "labels."),
        remember=own.get("remember", "{value}"),
        topic=own.get("topic", ""),
    )


def parse_question_bank(
    raw: dict[str, Any], vocabulary: Vocabulary, catalogue: Catalogue
) -> QuestionBank:
    """Build the QuestionBank from shop/questions.yml and the message catalogue (each
    shop/messages/*.yml by name), checked against the vocabulary and across languages."""
    texts = resolve_catalogue(catalogue, raw.get("address"))
    english = texts[DEFAULT_LANGUAGE]
    unknown_sections = sorted({key.split(".", 1)[0] for key in english} - {"messages", "questions"})
    if unknown_sections:
        raise ContentError(f"{DEFAULT_LANGUAGE}: unknown sections {unknown_sections}")
    if "messages" in raw:
        raise ContentError(
            f"questions.yml: messages belong in {MESSAGES_DIR}/<language>.yml, not questions.yml"
        )
    questions = []
    for spec in raw.get("questions") or []:
        question_id = str(spec["id"])
        inline = [f for f in WORDING_FIELDS if f in spec]
        if inline:
            raise ContentError(
                f"question {question_id}: {inline} belong in {MESSAGES_DIR}/<language>.yml "
                f"(questions.{question_id}), not questions.yml"
            )
        wordings = {lang: _wording(t, question_id, lang) for lang, t in texts.items()}
        en = wordings[DEFAULT_LANGUAGE]
        question = Question(
            id=question_id,
            entity=str(spec["entity"]),
            priority=int(spec.get("priority", 0)),
            text=en.text,
            why=en.why,
            labels=en.labels,
            buttons=tuple(str(b) for b in spec.get("buttons") or ()),
            remember=en.remember,
            topic=en.topic,
            multiple=bool(spec.get("multiple", False)),
            negatives=bool(spec.get("negatives", False)),
            free_text_other=bool(spec.get("free_text_other", False)),
            wordings=wordings,
        )
        known = vocabulary.of(question.entity).values
        for value_id in question.buttons:
            if value_id not in known:
                raise ContentError(f"question {question.id}: button {value_id!r} is not a value")
        questions.append(question)
    ids = [q.id for q in questions]
    if len(ids) != len(set(ids)):
        raise ContentError("question ids must be unique")
    worded = {key.split(".")[1] for key in english if key.startswith("questions.")}
    if worded - set(ids):
        raise ContentError(
            f"{DEFAULT_LANGUAGE}: wording for {sorted(worded - set(ids))}, "
            "which questions.yml does not ask"
        )
    messages = {lang: _section(t, "messages.") for lang, t in texts.items()}
    withdrawal = raw.get("withdrawal") or {}
    words = {normalize_phrase(str(w)) for w in withdrawal.get("everything") or ()}
    words |= {without_accents(w) for w in words}
    phrases: dict[str, tuple[str, ...]] = {}
    for purpose, listed in (withdrawal.get("purposes") or {}).items():
        if purpose not in PURPOSES:
            raise ContentError(f"withdrawal: unknown consent purpose {purpose!r}")
        normalised = {normalize_phrase(str(p)) for p in listed or ()}
        phrases[str(purpose)] = tuple(sorted(normalised | {without_accents(p) for p in normalised}))
    return QuestionBank(
        questions=tuple(questions),
        messages=messages[DEFAULT_LANGUAGE],
        policy_version=str(raw.get("policy_version", "unversioned")),
        opt_out_words=frozenset(words),
        withdrawal_phrases=phrases,
        catalogue=messages,
    )


@lru_cache(maxsize=8)
def load_content(content_dir: Path) -> tuple[QuestionBank, Vocabulary]:
    """Read and validate the question bank, its message catalogue (`messages/`) and the
    vocabulary in `content_dir` (cached)."""
    vocabulary = parse_vocabulary(read_yaml(content_dir / "vocabulary.yml"))
    bank = parse_question_bank(
        read_yaml(content_dir / "questions.yml"),
        vocabulary,
        read_catalogue(content_dir / MESSAGES_DIR),
    )
    return bank, vocabulary


def load_rules(path: Path) -> PatternRules:
    """Read and check the rules file."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = PatternRules(
        department_depth=int(raw.get("department_depth", 2)),
        history_items=int(raw.get("history_items", 10)),
        min_history=int(raw.get("min_history", 3)),
        threshold=float(raw.get("threshold", 0.8)),
        flag_ttl_days=int(raw.get("flag_ttl_days", 30)),
        annual_occasions=tuple(str(o) for o in raw.get("annual_occasions", ())),
    )
    if rules.min_history < 3 or rules.history_items < rules.min_history:
        raise ContentError("purchase rules: min_history >= 3 and history_items >= min_history")
    if not 0.5 <= rules.threshold <= 1.0 or rules.department_depth < 1:
        raise ContentError("purchase rules: threshold in [0.5, 1], department_depth >= 1")
    return rules
