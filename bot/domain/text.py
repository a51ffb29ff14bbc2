"""Showing stored shopper text safely: invisible and direction-changing characters made visible.

Text is stored exactly as the shopper typed it (the guard only drops NUL and replaces
unpaired surrogates). Wherever stored text is *shown* (the "what do you know about me"
summary, `rapport profiles show`), `inert` replaces every character that is invisible
or changes the direction of the text around it with a visible marker such as
`⟨U+202E⟩`, so a right-to-left override cannot reorder what follows it and a
zero-width space cannot make two different values look alike.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Format (Cf) characters are all marked: bidi embeddings, overrides and isolates
# (U+202A-U+202E, U+2066-U+2069), marks (U+200E, U+200F, U+061C), zero-width space
# (U+200B), word joiner (U+2060), BOM (U+FEFF), soft hyphen (U+00AD), tag characters...
# So are controls (Cc: NUL, newline, escape...), line and paragraph separators, and
# unpaired surrogates.
_MARKED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Not format characters, but they render as nothing.
_BLANK = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
# Zero-width (non-)joiners shape emoji sequences and Arabic or Indic words; kept there.
_JOINERS = frozenset("\u200c\u200d")


def _joinable(char: str) -> bool:
    """A neighbour a joiner legitimately sits next to: emoji parts, Arabic to Sinhala letters."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("So", "Sk")
        or code == 0xFE0F
        or 0x0600 <= code <= 0x0DFF
        or 0x1F3FB <= code <= 0x1F3FF
    )


def _marked(text: str, index: int) -> bool:
    char = text[index]
    if char in _JOINERS:
        inside = 0 < index < len(text) - 1
        return not (inside and _joinable(text[index - 1]) and _joinable(text[index + 1]))
    return char in _BLANK or unicodedata.category(char) in _MARKED_CATEGORIES


def marker(char: str) -> str:
    """How an invisible character is shown: `⟨U+202E⟩`."""
    return f"\u27e8U+{ord(char):04X}\u27e9"


def inert(text: str) -> str:
    """`text` with every invisible, control or bidi character shown as a marker.

    Visible text is unchanged, and `inert(inert(text)) == inert(text)`. A zero-width
    joiner or non-joiner stays when it sits between two emoji parts or two letters of
    a joining script (Arabic, Persian, Indic), where it changes how the text looks.
    """
    return "".join(
        marker(char) if _marked(text, index) else char for index, char in enumerate(text)
    )


def inert_json(value: Any) -> Any:
    """A JSON-like document with `inert` applied to every string, keys included."""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, dict):
        return {inert_json(key): inert_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [inert_json(item) for item in value]
    return value
