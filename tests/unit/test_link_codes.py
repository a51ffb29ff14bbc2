"""Link codes: their shape, how they are read, and how many there are."""

from __future__ import annotations

import pytest

from bot.domain.linking import (
    ALPHABET,
    bare_code,
    code_anywhere,
    display_code,
    named_code,
    new_code,
)


def test_new_codes_are_two_groups_with_a_digit_and_a_letter_each() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 8 and set(code) <= set(ALPHABET)
        for group in (code[:4], code[4:]):
            assert any(c.isdigit() for c in group) and any(c.isalpha() for c in group)
        assert bare_code(display_code(code)) == code


def test_the_code_space_is_what_docs_security_md_computes() -> None:
    per_group = 32**4 - 22**4 - 10**4
    assert per_group == 804_320
    assert per_group**2 == 646_930_662_400  # 6.47e11


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("K7QM-4XR2", "K7QM4XR2"),
        ("k7qm 4xr2", "K7QM4XR2"),
        ("K7QM - 4XR2", "K7QM4XR2"),
        ("K7QM  4XR2", "K7QM4XR2"),
        ("K7QM\u20134XR2", "K7QM4XR2"),  # an en dash, as phones type it
        (" K7QM4XR2. ", "K7QM4XR2"),
        ("K7QM-4XRO", "K7QM4XR0"),  # a typed O is read as 0
        ("STRENGTH", None),
        ("1234 5678", None),
        ("link 1234", None),
        ("I was born in 1982", None),
    ],
)
def test_a_bare_code_is_a_message_that_is_only_a_code(text: str, code: str | None) -> None:
    assert bare_code(text) == code


def test_named_codes_say_they_are_codes() -> None:
    assert named_code("link K7QM-4XR2") == "K7QM4XR2"
    assert named_code("my code is k7qm4xr2!") == "K7QM4XR2"
    assert named_code("Link my accounts: K7QM 4XR2") == "K7QM4XR2"
    assert named_code("K7QM-4XR2") is None
    assert named_code("the weather is K7QM-4XR2") is None


def test_a_code_anywhere_is_found_without_reading_words_as_one() -> None:
    assert code_anywhere("please link with K7QM 4XR2 thanks") == "K7QM4XR2"
    assert code_anywhere("link my accounts") is None
    assert code_anywhere("born 1982, ab12") is None
