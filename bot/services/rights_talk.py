"""Shoppers' rights in the chat: change a stored answer, export their data.

"That's wrong" / "change my ..." corrects any answered question (the old value is
kept as history); a message that already carries the new value ("change my
frequency to weekly") is applied at once, otherwise the bot asks which one and
then what it should be. "Export my data" gives the shopper's own data as JSON:
inline when small, else as a one-time link to the web app that expires.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from bot.domain.model import Person
from bot.domain.questions import Button, Question, QuestionBank, Vocabulary, normalize_phrase
from bot.services.consent_talk import CONTACT_QUESTION
from bot.services.interpret import Understood, interpret
from bot.services.profiles import person_document
from bot.services.turn import Incoming, SessionState, TurnContext
from bot.store.ports import UnitOfWork, UnitOfWorkFactory

CHANGE = "__change__"
"""`SessionState.pending` while the bot asks which answer to change."""

CHANGE_TO = "__change__:"
"""`SessionState.pending` prefix while the bot asks for the new value of one answer."""

OfferMarketing = Callable[[TurnContext, SessionState, Any], bool]


def token_hash(token: str) -> str:
    """What the store keeps of an export link's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _outside_topics(incoming: Incoming, topics: list[Question]) -> Incoming:
    """`incoming` without mentions inside a named topic ("often" in "change how often")."""
    lowered = incoming.text.casefold()
    spans = []
    for question in topics:
        start = lowered.find(question.topic.casefold())
        if start >= 0:
            spans.append((start, start + len(question.topic)))
    kept = [m for m in incoming.mentions if not any(m.start < e and s < m.end for s, e in spans)]
    return dataclasses.replace(incoming, mentions=kept)


def _understood_mentions(
    ctx: TurnContext,
    vocabulary: Vocabulary,
    questions: list[Question],
    ignore: list[Question] | None = None,
) -> list[tuple[Question, Understood]]:
    """Answers the message itself gives, for the questions whose entities it mentions."""
    found = []
    incoming = _outside_topics(ctx.incoming, ignore or [])
    for question in questions:
        if not any(m.entity == question.entity for m in incoming.mentions):
            continue
        reading = interpret(
            question, vocabulary, incoming.text, incoming.mentions, allow_own_words=False
        )
        if isinstance(reading, Understood):
            found.append((question, reading))
    return found


class ChangeTalk:
    """ "That's wrong" / "change my ...": corrections of any stored answer."""

    def __init__(
        self,
        bank: QuestionBank,
        vocabulary: Vocabulary,
        shop_name: str,
        offer_marketing: OfferMarketing,
    ) -> None:
        self._bank = bank
        self._vocabulary = vocabulary
        self._shop_name = shop_name
        self._offer_marketing = offer_marketing

    def _msg(self, key: str, **values: object) -> str:
        return self._bank.message(key, shop_name=self._shop_name, **values)

    def _answered(self, person: Person) -> list[Question]:
        current = person.current_values()
        return [q for q in self._bank.by_priority() if q.id in current]

    def start(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """The shopper asked to change something."""
        answered = self._answered(ctx.person)
        if not answered:
            ctx.say(self._msg("change_nothing"))
            return state
        text = normalize_phrase(ctx.incoming.text)
        named = [q for q in answered if q.topic and normalize_phrase(q.topic) in text]
        direct = _understood_mentions(ctx, self._vocabulary, answered, ignore=named)
        if direct:
            return self._apply(ctx, state, direct)
        if len(named) == 1:
            return self._ask_new_value(ctx, state, named[0])
        buttons = tuple(Button(q.topic or q.id, q.topic or q.id) for q in answered)
        keep = self._msg("change_keep_button")
        ctx.say(self._msg("change_which"), (*buttons, Button(keep, keep)))
        return dataclasses.replace(state, pending=CHANGE, clarify=None)

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """The answer to "which one?" or to "what should it be instead?"."""
        done = dataclasses.replace(state, pending=None, clarify=None)
        incoming = ctx.incoming
        if state.pending == CHANGE:
            question = self._bank.topic_of(incoming.text)
            if question is not None:
                return self._ask_new_value(ctx, state, question)
            direct = _understood_mentions(ctx, self._vocabulary, self._answered(ctx.person))
            if direct:
                return self._apply(ctx, done, direct)
            ctx.say(self._msg("change_kept"))
            return done
        question_id = (state.pending or "")[len(CHANGE_TO) :]
        if not self._bank.has(question_id):
            return done
        question = self._bank.get(question_id)
        if incoming.intent in ("skip", "deny") and not incoming.mentions:
            ctx.say(self._msg("change_kept"))
            return done
        reading = interpret(
            question,
            self._vocabulary,
            incoming.text,
            incoming.mentions,
            allow_own_words=question.free_text_other,
        )
        if isinstance(reading, Understood):
            return self._apply(ctx, done, [(question, reading)])
        ctx.say(self._msg("change_unclear"))
        return done

    def _ask_new_value(
        self, ctx: TurnContext, state: SessionState, question: Question
    ) -> SessionState:
        keep = self._msg("change_keep_button")
        ctx.say(question.text, (*question.quick_replies(), Button(keep, keep)))
        return dataclasses.replace(state, pending=CHANGE_TO + question.id, clarify=None)

    def _apply(
        self,
        ctx: TurnContext,
        state: SessionState,
        readings: list[tuple[Question, Understood]],
    ) -> SessionState:
        for question, reading in readings:
            ctx.record_answer(question.id, reading.value)
            ctx.say(self._msg("corrected", summary=reading.summary))
        state = dataclasses.replace(state, last_answered=readings[-1][0].id)
        for question, reading in readings:
            if question.id == CONTACT_QUESTION:
                self._offer_marketing(ctx, state, reading.value)
        return state


@dataclass(frozen=True)
class ExportPolicy:
    """How the shopper's own export is handed over."""

    public_url: str = "http://127.0.0.1:8000"
    link_minutes: int = 15
    inline_limit: int = 1200


class DataExports:
    """ "Export my data": the shopper's own document, inline or as a one-time link."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        policy: ExportPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self._uow_factory = uow_factory
        self._policy = policy
        self._clock = clock

    @staticmethod
    def document(uow: UnitOfWork, person: Person, at: datetime) -> dict[str, Any]:
        """Everything about `person`, with the texts their consents answered.

        Nothing is withheld: it is the shopper's own data, sensitive values included.
        """
        wordings = {
            c.wording_hash: uow.rights.wording(wording_hash=c.wording_hash)
            for c in person.consents
            if c.wording_hash
        }
        return {
            "exported_at": at.isoformat(),
            "profile": person_document(
                person,
                purchases=uow.orders.contexts(person_id=person.id),
                reminders=uow.orders.reminders(person_id=person.id),
            ),
            "consent_wordings": wordings,
        }

    def offer(self, ctx: TurnContext, bank: QuestionBank, shop_name: str) -> None:
        """Say the export inline when it is small; otherwise give a one-time link."""
        body = json.dumps(
            self.document(ctx.uow, ctx.person, ctx.at), ensure_ascii=False, default=str
        )
        if len(body) <= self._policy.inline_limit:
            ctx.say(bank.message("export_inline", shop_name=shop_name) + "\n" + body)
            return
        token = secrets.token_urlsafe(32)
        ctx.uow.rights.add_export(
            token_hash=token_hash(token),
            person_id=ctx.person.id,
            created_at=ctx.at,
            expires_at=ctx.at + timedelta(minutes=self._policy.link_minutes),
        )
        url = f"{self._policy.public_url.rstrip('/')}/export/{token}"
        ctx.say(
            bank.message(
                "export_link", shop_name=shop_name, url=url, minutes=self._policy.link_minutes
            )
        )

    def is_live(self, token: str) -> bool:
        """Whether a link can still be used (the download page shows its button)."""
        with self._uow_factory() as uow:
            return uow.rights.export_is_live(token_hash=token_hash(token), at=self._clock())

    def claim(self, token: str) -> dict[str, Any] | None:
        """Use the link up and return the document; None if it is used, expired or unknown."""
        at = self._clock()
        with self._uow_factory() as uow:
            person_id = uow.rights.claim_export(token_hash=token_hash(token), at=at)
            person = uow.profiles.get(person_id=person_id) if person_id else None
            if person is None:
                return None
            document = self.document(uow, person, at)
            uow.commit()
        return document
