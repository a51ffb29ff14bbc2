"""One turn of a conversation: the session state, the incoming message, what the bot says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.model import (
    AttributeValue,
    ConsentRecord,
    Identity,
    JsonValue,
    Person,
    Provenance,
    QuestionRecord,
    QuestionStatus,
)
from bot.domain.questions import Button
from bot.services.interpret import Mention
from bot.store.ports import UnitOfWork


@dataclass
class SessionState:
    """What the bot remembers within one conversation session (Rasa slots)."""

    pending: str | None = None
    clarify: dict[str, Any] | None = None
    asked: list[str] = field(default_factory=list)
    last_answered: str | None = None
    greeted: bool = False


@dataclass(frozen=True)
class Incoming:
    """One shopper message, as NLU understood it."""

    identity: Identity
    intent: str
    text: str
    mentions: list[Mention]
    message_ref: str | None
    source: str | None = None
    """Pseudonym of the address the message came from, when the channel knows it."""


@dataclass(frozen=True)
class BotMessage:
    """One message to send, with optional quick replies."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass
class Turn:
    """The bot's answer to one message and the session state after it."""

    messages: list[BotMessage]
    state: SessionState
    # Identities erased this turn ("forget me"): their chat transcripts are cleared too.
    erased: tuple[Identity, ...] = ()
    # Chats to tell something on their own channel (a link code of theirs was used).
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class Notice:
    """A message for another conversation, and the state it leaves that conversation in."""

    identity: Identity
    message: BotMessage
    pending: str
    clarify: dict[str, Any]


class TurnContext:
    """Per-call working set: the unit of work, the person, and the reply being built."""

    def __init__(self, uow: UnitOfWork, person: Person, incoming: Incoming, at: datetime):
        self.uow = uow
        self.person = person
        self.incoming = incoming
        self.at = at
        self.messages: list[BotMessage] = []

    def say(self, text: str, buttons: tuple[Button, ...] = ()) -> None:
        self.messages.append(BotMessage(text, buttons))

    # Each write goes to the store and to the loaded aggregate, so later steps of
    # the same turn see it without reloading the person.

    def add_value(self, value: AttributeValue) -> None:
        self.uow.profiles.add_value(person_id=self.person.id, value=value)
        self.person.record_value(value)

    def add_consent(self, record: ConsentRecord) -> None:
        self.uow.profiles.add_consent(person_id=self.person.id, record=record)
        self.person.record_consent(record)

    def save_question(self, record: QuestionRecord) -> None:
        self.uow.profiles.save_question(person_id=self.person.id, record=record)
        self.person.record_question(record)

    def record_answer(self, question_id: str, value: JsonValue) -> None:
        """Store what the shopper stated in this message as the answer to a question.

        The previous value (if any) is superseded, never overwritten.
        """
        self.add_value(
            AttributeValue(
                attribute=question_id,
                value=value,
                provenance=Provenance.STATED,
                confidence=1.0,
                channel=self.incoming.identity.channel,
                message_ref=self.incoming.message_ref,
                created_at=self.at,
            )
        )
        previous = self.person.questions.get(question_id)
        self.save_question(
            QuestionRecord(
                question_id=question_id,
                status=QuestionStatus.ANSWERED,
                asked_at=previous.asked_at if previous else None,
                updated_at=self.at,
                why_asked=previous.why_asked if previous else 0,
            )
        )
