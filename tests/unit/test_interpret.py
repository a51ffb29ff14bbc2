"""Reading answers: negatives, ambiguity, own words, clarifications (real entity ruler)."""

from __future__ import annotations

from typing import Callable

import pytest

from bot.domain.interpret import (
    Ambiguous,
    Mention,
    Unclear,
    Understood,
    interpret,
    resolve_clarification,
)
from bot.domain.questions import QuestionBank, Vocabulary

Find = Callable[[str], list[Mention]]


@pytest.mark.parametrize(
    ("text", "selected", "excluded"),
    [
        ("text me, email is too much", ["sms"], ["email"]),
        ("not email but sms please", ["sms"], ["email"]),
        ("anything but email", [], ["email"]),
        ("WhatsApp or Telegram, never push notifications", ["whatsapp", "telegram"], ["push"]),
        ("E-MAIL", ["email"], []),
        ("sms instead of email", ["sms"], ["email"]),
        ("no messages at all", ["none"], []),
        ("email and no messages at all", ["email"], []),
    ],
)
def test_channels_with_negatives(
    bank: QuestionBank,
    vocabulary: Vocabulary,
    find_mentions: Find,
    text: str,
    selected: list[str],
    excluded: list[str],
) -> None:
    question = bank.get("contact_channels")
    reading = interpret(question, vocabulary, text, find_mentions(text))
    assert isinstance(reading, Understood)
    assert reading.value == {"selected": selected, "excluded": excluded}


@pytest.mark.parametrize(
    ("question_id", "text", "candidates"),
    [
        ("contact_frequency", "often", ("daily", "weekly")),
        ("contact_frequency", "daily or weekly", ("daily", "weekly")),
        ("device", "on my phone", ("app", "mobile_web")),
        ("contact_channels", "just message me", ("sms", "whatsapp")),
    ],
)
def test_ambiguity_gives_candidates_never_a_guess(
    bank: QuestionBank,
    vocabulary: Vocabulary,
    find_mentions: Find,
    question_id: str,
    text: str,
    candidates: tuple[str, ...],
) -> None:
    reading = interpret(bank.get(question_id), vocabulary, text, find_mentions(text))
    assert isinstance(reading, Ambiguous)
    assert reading.candidates == candidates


def test_single_choice_negation_leaves_the_other_value(
    bank: QuestionBank, vocabulary: Vocabulary, find_mentions: Find
) -> None:
    text = "not daily, weekly is fine"
    reading = interpret(bank.get("contact_frequency"), vocabulary, text, find_mentions(text))
    assert reading == Understood(value="weekly", summary="weekly")


@pytest.mark.parametrize("text", ["", "🙂🙂", "banana", "yes", "12345"])
def test_nothing_recognisable_is_unclear(
    bank: QuestionBank, vocabulary: Vocabulary, find_mentions: Find, text: str
) -> None:
    reading = interpret(bank.get("contact_frequency"), vocabulary, text, find_mentions(text))
    assert reading == Unclear()


def test_mentions_of_other_questions_do_not_answer_this_one(
    bank: QuestionBank, vocabulary: Vocabulary, find_mentions: Find
) -> None:
    text = "weekly"
    reading = interpret(bank.get("device"), vocabulary, text, find_mentions(text))
    assert reading == Unclear()


def test_motivation_in_own_words_is_kept_as_other(
    bank: QuestionBank, vocabulary: Vocabulary, find_mentions: Find
) -> None:
    text = "my doctor   suggested it"
    reading = interpret(bank.get("motivations"), vocabulary, text, find_mentions(text))
    assert isinstance(reading, Understood)
    assert reading.value == {"selected": ["other"], "other_text": "my doctor suggested it"}
    short = interpret(bank.get("motivations"), vocabulary, "ok", find_mentions("ok"))
    assert short == Unclear()


def test_clarification_accepts_a_candidate_or_both(
    bank: QuestionBank, vocabulary: Vocabulary, find_mentions: Find
) -> None:
    question = bank.get("contact_channels")
    known = {"selected": ["email"], "excluded": []}
    both = resolve_clarification(
        question, vocabulary, ("sms", "whatsapp"), known, "both please", find_mentions("both")
    )
    assert isinstance(both, Understood)
    assert both.value == {"selected": ["email", "sms", "whatsapp"], "excluded": []}
    lost = resolve_clarification(question, vocabulary, ("sms", "whatsapp"), known, "eh?", [])
    assert lost == Unclear()


def test_every_quick_reply_is_understood_as_its_own_value(
    bank: QuestionBank, vocabulary: Vocabulary, find_mentions: Find
) -> None:
    for question in bank.questions:
        for value_id, button in zip(question.buttons, question.quick_replies(), strict=True):
            reading = interpret(
                question,
                vocabulary,
                button.payload,
                find_mentions(button.payload),
                allow_own_words=False,
            )
            assert isinstance(reading, Understood), (question.id, button)
            expected = value_id if not question.multiple else {"selected": [value_id]}
            if isinstance(reading.value, dict):
                assert reading.value["selected"] == [value_id], (question.id, button)
            else:
                assert reading.value == expected, (question.id, button)
