"""`inert`: invisible and direction-changing characters shown as visible, harmless markers."""

from __future__ import annotations

import unicodedata

import pytest

from bot.domain.text import inert, inert_json, marker


@pytest.mark.parametrize(
    "char",
    [
        "\u202a",  # LEFT-TO-RIGHT EMBEDDING
        "\u202b",
        "\u202c",  # POP DIRECTIONAL FORMATTING
        "\u202d",
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "\u2066",  # LEFT-TO-RIGHT ISOLATE
        "\u2067",
        "\u2068",
        "\u2069",  # POP DIRECTIONAL ISOLATE
        "\u200e",  # LEFT-TO-RIGHT MARK
        "\u200f",  # RIGHT-TO-LEFT MARK
        "\u061c",  # ARABIC LETTER MARK
        "\u200b",  # ZERO WIDTH SPACE
        "\u2060",  # WORD JOINER
        "\ufeff",  # ZERO WIDTH NO-BREAK SPACE (BOM)
        "\u00ad",  # SOFT HYPHEN
        "\u180e",  # MONGOLIAN VOWEL SEPARATOR
        "\U000e0041",  # TAG LATIN CAPITAL LETTER A
        "\u3164",  # HANGUL FILLER
        "\x00",
        "\x1b",  # ESCAPE (terminal control sequences)
        "\n",
        "\r",
        "\u2028",  # LINE SEPARATOR
        "\u2029",
        "\ud800",  # unpaired surrogate
    ],
)
def test_invisible_and_bidi_characters_become_markers(char: str) -> None:
    shown = inert(f"a{char}b")

    assert shown == f"a⟨U+{ord(char):04X}⟩b"
    assert char not in shown


def test_the_marker_names_the_code_point() -> None:
    assert marker("\u202e") == "⟨U+202E⟩"
    assert marker("\U000e0041") == "⟨U+E0041⟩"


def test_an_override_cannot_reorder_what_follows() -> None:
    shown = inert("gift for \u202emum\u202c (not me)")

    assert shown == "gift for ⟨U+202E⟩mum⟨U+202C⟩ (not me)"
    assert all(unicodedata.bidirectional(c) not in ("RLO", "LRO", "PDF") for c in shown)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain words, émigré, naïve, 50% off!",
        "<b>markup</b> & entities &amp;",
        "שלום עולם",  # Hebrew: right-to-left letters are shown as they are
        "مرحبا",
        "日本語のテキスト",
        "👍 thumbs up ❤️",
    ],
)
def test_visible_text_is_unchanged(text: str) -> None:
    assert inert(text) == text


def test_a_tab_is_marked_like_any_control() -> None:
    assert inert("a\tb") == "a⟨U+0009⟩b"


@pytest.mark.parametrize(
    "text",
    [
        "👨\u200d👩\u200d👧",  # family: emoji joined by ZWJ
        "👩🏽\u200d💻",  # skin tone, then ZWJ
        "❤\ufe0f\u200d🔥",  # variation selector, then ZWJ
        "می\u200cخواهم",  # noqa: RUF001 - Persian: ZWNJ between letters
        "क्\u200dष",  # Devanagari: ZWJ
    ],
)
def test_joiners_that_shape_emoji_or_words_are_kept(text: str) -> None:
    assert inert(text) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("ad\u200dmin", "ad⟨U+200D⟩min"),
        ("ad\u200cmin", "ad⟨U+200C⟩min"),
        ("\u200d👍", "⟨U+200D⟩👍"),
        ("👍\u200d", "👍⟨U+200D⟩"),
        ("👍\u200d\u202e👍", "👍⟨U+200D⟩⟨U+202E⟩👍"),
    ],
)
def test_joiners_anywhere_else_are_marked(text: str, shown: str) -> None:
    assert inert(text) == shown


def test_inert_is_idempotent() -> None:
    text = "x\u202ey\u200bz\x00\n👨\u200d👩 ⟨U+202E⟩"

    assert inert(inert(text)) == inert(text)


def test_a_typed_marker_stays_visible_text() -> None:
    assert inert("⟨U+202E⟩") == "⟨U+202E⟩"


def test_inert_json_reaches_every_string_keys_included() -> None:
    document = {
        "a\u202e": ["x\u200by", {"n": 1, "t": True, "z": None, "s": "\u2066"}],
        "f": 1.5,
        "tuple": ("\u200f",),
    }

    assert inert_json(document) == {
        "a⟨U+202E⟩": ["x⟨U+200B⟩y", {"n": 1, "t": True, "z": None, "s": "⟨U+2066⟩"}],
        "f": 1.5,
        "tuple": ["⟨U+200F⟩"],
    }
