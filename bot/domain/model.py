"""People, channel identities, attribute values with provenance, consent, question state."""

from __future__ import annotations

import dataclasses
import enum
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

JsonValue = Any
"""A value that serialises to JSON: str, number, bool, None, list or dict of those."""


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class Provenance(str, enum.Enum):
    """Where a value came from."""

    STATED = "stated"
    INFERRED = "inferred"
    AGENT = "agent"
    IMPORT = "import"


class ConsentStatus(str, enum.Enum):
    """What the shopper said about a purpose."""

    GRANTED = "granted"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


class QuestionStatus(str, enum.Enum):
    """Where a profiling question stands for one person."""

    ASKED = "asked"
    ANSWERED = "answered"
    DECLINED = "declined"


PROFILING = "profiling"
"""The consent purpose that covers asking profiling questions and storing answers."""

REMINDERS = "reminders"
"""The consent purpose for reminders the shopper asked for (e.g. before an occasion)."""

MARKETING_BY_CHANNEL = {
    "email": "email_marketing",
    "sms": "sms_marketing",
    "push": "push_marketing",
    "whatsapp": "whatsapp_marketing",
}
"""Contact channels that carry marketing, and the consent purpose of each."""

PURPOSES = (PROFILING, *MARKETING_BY_CHANNEL.values(), REMINDERS)
"""Every consent purpose the ledger knows."""


@dataclass(frozen=True)
class Identity:
    """One channel account of a person, e.g. ("socketio", "<session id>")."""

    channel: str
    external_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass(frozen=True)
class AttributeValue:
    """One recorded value of a profile attribute; history is append-only.

    Attributes:
        attribute: the attribute name (a question id for answers).
        value: the value, JSON-serialisable.
        provenance: stated, inferred, agent or import.
        confidence: how sure we are, 0..1 (1.0 for stated values).
        channel: the channel the value came through.
        message_ref: a reference to the message it came from (never its text).
        created_at: when it was recorded.
        superseded_at: when a newer value replaced it (None while current).
    """

    attribute: str
    value: JsonValue
    provenance: Provenance
    confidence: float
    channel: str
    message_ref: str | None
    created_at: datetime
    superseded_at: datetime | None = None
    id: int | None = None

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


def supersede(values: Iterable[AttributeValue], new: AttributeValue) -> list[AttributeValue]:
    """`values` plus `new`, which supersedes the current value of its attribute (at its time).

    This and `supersession` are the one home of the rule "the newest stated value is
    current": `Person` and every store backend apply these, nothing else writes it.
    """
    kept = [
        dataclasses.replace(v, superseded_at=new.created_at)
        if v.attribute == new.attribute and v.is_current
        else v
        for v in values
    ]
    return [*kept, new]


def supersession(values: Iterable[AttributeValue]) -> dict[int, datetime | None]:
    """`superseded_at` for each value id: per attribute the newest is current.

    Each older value is superseded when the next newer one was recorded, so after a
    merge the newer stated value wins and both stay in the history.
    """
    by_attribute: dict[str, list[AttributeValue]] = {}
    for value in values:
        by_attribute.setdefault(value.attribute, []).append(value)
    result: dict[int, datetime | None] = {}
    for history in by_attribute.values():
        ordered = sorted(history, key=lambda v: (v.created_at, v.id or 0))
        for older, newer in itertools.pairwise(ordered):
            if older.id is not None:
                result[older.id] = newer.created_at
        if ordered[-1].id is not None:
            result[ordered[-1].id] = None
    return result


@dataclass(frozen=True)
class ConsentRecord:
    """One entry of the consent ledger (never rewritten).

    Attributes:
        wording_hash: SHA-256 of the exact text the shopper was shown when they
            answered (the request for a grant or denial, the confirmation of a
            withdrawal); the text itself is kept once per hash in the store.
    """

    purpose: str
    status: ConsentStatus
    policy_version: str
    channel: str
    message_ref: str | None
    created_at: datetime
    wording_hash: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class QuestionRecord:
    """Where one question stands for one person."""

    question_id: str
    status: QuestionStatus
    asked_at: datetime | None
    updated_at: datetime
    why_asked: int = 0


@dataclass
class Person:
    """A shopper, with everything the store holds about them."""

    id: str
    created_at: datetime
    identities: list[Identity] = field(default_factory=list)
    values: list[AttributeValue] = field(default_factory=list)
    consents: list[ConsentRecord] = field(default_factory=list)
    questions: dict[str, QuestionRecord] = field(default_factory=dict)

    def current_values(self) -> dict[str, AttributeValue]:
        """The current value of each attribute (the newest not superseded)."""
        current: dict[str, AttributeValue] = {}
        for value in sorted(self.values, key=lambda v: v.created_at):
            if value.is_current:
                current[value.attribute] = value
        return current

    def history(self, attribute: str) -> list[AttributeValue]:
        """Every value ever recorded for `attribute`, oldest first."""
        return sorted(
            (v for v in self.values if v.attribute == attribute), key=lambda v: v.created_at
        )

    def consent(self, purpose: str) -> ConsentRecord | None:
        """The current consent for `purpose`: the newest ledger entry, if any."""
        matching = [c for c in self.consents if c.purpose == purpose]
        if not matching:
            return None
        return max(matching, key=lambda c: (c.created_at, c.id or 0))

    def has_consent(self, purpose: str) -> bool:
        """Whether `purpose` is currently granted."""
        current = self.consent(purpose)
        return current is not None and current.status is ConsentStatus.GRANTED

    def record_value(self, value: AttributeValue) -> None:
        """Append `value`; the current value of the same attribute becomes superseded."""
        self.values = supersede(self.values, value)

    def record_consent(self, record: ConsentRecord) -> None:
        """Append an entry to the consent ledger."""
        self.consents.append(record)

    def record_question(self, record: QuestionRecord) -> None:
        """Replace where one question stands."""
        self.questions[record.question_id] = record

    def question_status(self, question_id: str) -> QuestionStatus | None:
        record = self.questions.get(question_id)
        return record.status if record else None
