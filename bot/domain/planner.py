"""Chooses the next profiling question: the most useful one not yet answered or declined."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Iterable

from bot.domain.model import PROFILING, ConsentStatus, Person, QuestionStatus
from bot.domain.questions import Question, QuestionBank

SETTLED = (QuestionStatus.ANSWERED, QuestionStatus.DECLINED)


class ConsentState(str, Enum):
    """What the profiling consent means for this conversation."""

    ASK = "ask"
    GRANTED = "granted"
    REFUSED = "refused"


def consent_state(person: Person, *, now: datetime, retry_after: timedelta) -> ConsentState:
    """Whether to ask for profiling consent, go ahead, or leave the shopper alone.

    A "no" is respected for `retry_after`; a withdrawal (opt-out) until the shopper
    grants consent again.
    """
    current = person.consent(PROFILING)
    if current is None:
        return ConsentState.ASK
    if current.status is ConsentStatus.GRANTED:
        return ConsentState.GRANTED
    if current.status is ConsentStatus.DENIED and now - current.created_at >= retry_after:
        return ConsentState.ASK
    return ConsentState.REFUSED


def next_question(
    bank: QuestionBank,
    person: Person,
    *,
    asked_this_session: Iterable[str],
    budget: int,
) -> Question | None:
    """The highest-priority question still open, or None when done or out of budget."""
    asked = list(asked_this_session)
    if len(asked) >= budget:
        return None
    for question in bank.by_priority():
        if question.id in asked:
            continue
        if person.question_status(question.id) in SETTLED:
            continue
        return question
    return None


def remaining(bank: QuestionBank, person: Person) -> list[Question]:
    """Questions neither answered nor declined, most useful first."""
    return [q for q in bank.by_priority() if person.question_status(q.id) not in SETTLED]
