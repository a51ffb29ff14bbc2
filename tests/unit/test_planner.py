"""The planner: priority order, never re-ask, session budget, consent windows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.domain.model import (
    ConsentRecord,
    ConsentStatus,
    Person,
    QuestionRecord,
    QuestionStatus,
)
from bot.domain.planner import ConsentState, consent_state, next_question
from bot.domain.questions import QuestionBank

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
MONTH = timedelta(days=30)


def _person(**statuses: QuestionStatus) -> Person:
    person = Person(id="p", created_at=NOW)
    for question_id, status in statuses.items():
        person.questions[question_id] = QuestionRecord(question_id, status, NOW, NOW)
    return person


def test_highest_priority_first_then_skips_settled_questions(bank: QuestionBank) -> None:
    assert next_question(bank, _person(), asked_this_session=[], budget=3).id == "contact_channels"  # type: ignore[union-attr]
    person = _person(
        contact_channels=QuestionStatus.ANSWERED, contact_frequency=QuestionStatus.DECLINED
    )
    assert next_question(bank, person, asked_this_session=[], budget=3).id == "motivations"  # type: ignore[union-attr]


def test_asked_but_unanswered_may_come_back_in_a_later_session_only(bank: QuestionBank) -> None:
    person = _person(contact_channels=QuestionStatus.ASKED)
    later = next_question(bank, person, asked_this_session=[], budget=3)
    same = next_question(bank, person, asked_this_session=["contact_channels"], budget=3)
    assert later is not None and later.id == "contact_channels"
    assert same is not None and same.id == "contact_frequency"


def test_budget_and_exhaustion_end_the_questions(bank: QuestionBank) -> None:
    assert next_question(bank, _person(), asked_this_session=["a", "b", "c"], budget=3) is None
    everything = _person(**{q.id: QuestionStatus.ANSWERED for q in bank.questions})
    assert next_question(bank, everything, asked_this_session=[], budget=3) is None


def _with_consent(status: ConsentStatus, at: datetime) -> Person:
    person = _person()
    person.consents.append(ConsentRecord("profiling", status, "v1", "rest", None, at))
    return person


def test_consent_windows() -> None:
    assert consent_state(_person(), now=NOW, retry_after=MONTH) is ConsentState.ASK
    granted = _with_consent(ConsentStatus.GRANTED, NOW)
    assert consent_state(granted, now=NOW, retry_after=MONTH) is ConsentState.GRANTED
    recent_no = _with_consent(ConsentStatus.DENIED, NOW - timedelta(days=29))
    assert consent_state(recent_no, now=NOW, retry_after=MONTH) is ConsentState.REFUSED
    old_no = _with_consent(ConsentStatus.DENIED, NOW - timedelta(days=31))
    assert consent_state(old_no, now=NOW, retry_after=MONTH) is ConsentState.ASK
    opted_out = _with_consent(ConsentStatus.WITHDRAWN, NOW - timedelta(days=400))
    assert consent_state(opted_out, now=NOW, retry_after=MONTH) is ConsentState.REFUSED
