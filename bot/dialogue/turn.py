"""One turn of a conversation: the session state, the incoming message, what the bot says."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from bot.domain.conversations import BotMessage, Notice
from bot.domain.interpret import Mention
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
from bot.store.ports import UnitOfWork


@dataclass(frozen=True)
class SessionState:
    """What the bot remembers within one conversation session (Rasa slots); never changed.

    Attributes:
        pending: what the bot is waiting for, in the encoding of the dialogue part that
            owns it (a question id, "__consent__", "purchase:7:purpose", ...).
        clarify: that part's working data (candidates, what is known so far).
        asked: what was asked this session (question ids, "purchase:<flag id>").
        last_answered: the question answered last ("no, weekly" corrects it).
        greeted: whether the bot said hello this session.
    """

    pending: str | None = None
    clarify: dict[str, Any] | None = None
    asked: tuple[str, ...] = ()
    last_answered: str | None = None
    greeted: bool = False

    def waiting(self, pending: str | None, clarify: dict[str, Any] | None = None) -> SessionState:
        """This state, waiting for `pending` (with `clarify`), or for nothing."""
        return dataclasses.replace(self, pending=pending, clarify=clarify)

    def settled(self) -> SessionState:
        """This state, waiting for nothing."""
        return self.waiting(None)


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
class Turn:
    """The bot's answer to one message and the session state after it."""

    messages: list[BotMessage]
    state: SessionState
    # Identities erased this turn ("forget me"): their chat transcripts are cleared too.
    erased: tuple[Identity, ...] = ()
    # Chats to tell something on their own channel (a link code of theirs was used).
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class Effect:
    """What a use case run after the turn's commit added: messages, erasures, notices."""

    messages: list[BotMessage] = field(default_factory=list)
    erased: tuple[Identity, ...] = ()
    notices: tuple[Notice, ...] = ()


class TurnContext:
    """Per-call working set: the unit of work, the person, and the reply being built."""

    def __init__(self, uow: UnitOfWork, person: Person, incoming: Incoming, at: datetime):
        self.uow = uow
        self.person = person
        self.incoming = incoming
        self.at = at
        self.messages: list[BotMessage] = []
        self.after_commit: list[Callable[[], Effect]] = []

    def say(self, text: str, buttons: tuple[Button, ...] = ()) -> None:
        self.messages.append(BotMessage(text, buttons))

    def then(self, effect: Callable[[], Effect]) -> None:
        """Run `effect` once this turn's unit of work has committed (a use case with a
        unit of work of its own: linking, erasure); its messages come after this turn's."""
        self.after_commit.append(effect)

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


__all__ = ["BotMessage", "Effect", "Incoming", "Notice", "SessionState", "Turn", "TurnContext"]
