"""Shoppers' rights in the chat: what we know, change an answer, export, forget me.

"That's wrong" / "change my ..." corrects any answered question (the old value is
kept as history); a message that already carries the new value ("change my
frequency to weekly") is applied at once, otherwise the bot asks which one
(`__change__`) and then what it should be (`__change__:<question>`). "Export my data"
gives the shopper's own data as JSON: inline when small, else a one-time link.
"Forget me" asks first (`__forget__`) and erases only on an explicit yes, after the
turn's own unit of work (erasure has its own).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Callable

from bot.dialogue.marketing import CONTACT_QUESTION
from bot.dialogue.parts import Wording
from bot.dialogue.transparency import profile_summary
from bot.dialogue.turn import BotMessage, Effect, Incoming, SessionState, TurnContext
from bot.domain.interpret import Understood, interpret
from bot.domain.model import Person
from bot.domain.questions import Button, Question, Vocabulary, normalize_phrase
from bot.services.erasure import ErasureService
from bot.services.exports import DataExports

CHANGE = "__change__"
"""`SessionState.pending` while the bot asks which answer to change."""

CHANGE_TO = "__change__:"
"""`SessionState.pending` prefix while the bot asks for the new value of one answer."""

FORGET = "__forget__"
"""`SessionState.pending` while the bot waits for "yes, delete everything"."""

OfferMarketing = Callable[[TurnContext, SessionState, object], "SessionState | None"]


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


def has_words(text: str) -> bool:
    """Whether the message has any letter or digit (an emoji alone has none)."""
    return any(char.isalnum() for char in text)


class Changes:
    """ "That's wrong" / "change my ...": corrections of any stored answer (a dialogue part)."""

    def __init__(
        self, words: Wording, vocabulary: Vocabulary, offer_marketing: OfferMarketing
    ) -> None:
        self._words = words
        self._bank = words.bank
        self._vocabulary = vocabulary
        self._offer_marketing = offer_marketing

    def owns(self, pending: str) -> bool:
        return pending == CHANGE or pending.startswith(CHANGE_TO)

    def repeat(self, ctx: TurnContext, state: SessionState) -> SessionState:
        return state.settled()  # not asked again: the shopper can say "change ..." anew

    def _answered(self, person: Person) -> list[Question]:
        current = person.current_values()
        return [q for q in self._bank.by_priority() if q.id in current]

    def start(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """The shopper asked to change something."""
        answered = self._answered(ctx.person)
        if not answered:
            ctx.say(self._words("change_nothing"))
            return state
        text = normalize_phrase(ctx.incoming.text)
        named = [q for q in answered if q.topic and normalize_phrase(q.topic) in text]
        direct = _understood_mentions(ctx, self._vocabulary, answered, ignore=named)
        if direct:
            return self._apply(ctx, state, direct)
        if len(named) == 1:
            return self._ask_new_value(ctx, state, named[0])
        buttons = tuple(Button(q.topic or q.id, q.topic or q.id) for q in answered)
        ctx.say(self._words("change_which"), (*buttons, self._words.button("change_keep_button")))
        return state.waiting(CHANGE)

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """The answer to "which one?" or to "what should it be instead?"."""
        done = state.settled()
        incoming = ctx.incoming
        if state.pending == CHANGE:
            question = self._bank.topic_of(incoming.text)
            if question is not None:
                return self._ask_new_value(ctx, state, question)
            direct = _understood_mentions(ctx, self._vocabulary, self._answered(ctx.person))
            if direct:
                return self._apply(ctx, done, direct)
            ctx.say(self._words("change_kept"))
            return done
        question_id = (state.pending or "")[len(CHANGE_TO) :]
        if not self._bank.has(question_id):
            return done
        question = self._bank.get(question_id)
        if incoming.intent in ("skip", "deny") and not incoming.mentions:
            ctx.say(self._words("change_kept"))
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
        ctx.say(self._words("change_unclear"))
        return done

    def _ask_new_value(
        self, ctx: TurnContext, state: SessionState, question: Question
    ) -> SessionState:
        keep = self._words.button("change_keep_button")
        ctx.say(question.text, (*question.quick_replies(), keep))
        return state.waiting(CHANGE_TO + question.id)

    def _apply(
        self,
        ctx: TurnContext,
        state: SessionState,
        readings: list[tuple[Question, Understood]],
    ) -> SessionState:
        for question, reading in readings:
            ctx.record_answer(question.id, reading.value)
            ctx.say(self._words("corrected", summary=reading.summary))
        state = dataclasses.replace(state, last_answered=readings[-1][0].id)
        for question, reading in readings:
            if question.id == CONTACT_QUESTION:
                offered = self._offer_marketing(ctx, state, reading.value)
                state = offered if offered is not None else state
        return state


class Forgetting:
    """ "Forget me": ask first; erase on an explicit yes only (a dialogue part)."""

    def __init__(self, words: Wording, erasure: ErasureService) -> None:
        self._words = words
        self._erasure = erasure

    def owns(self, pending: str) -> bool:
        return pending == FORGET

    def repeat(self, ctx: TurnContext, state: SessionState) -> SessionState:
        return state.settled()  # a confirmation is never asked for again unprompted

    def ask(self, state: SessionState) -> tuple[BotMessage, SessionState]:
        buttons = (self._words.button("forget_yes"), self._words.button("forget_no"))
        return BotMessage(self._words("forget_confirm"), buttons), state.waiting(FORGET)

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """Erase on a yes with words in it (an emoji decides nothing); anything else cancels."""
        incoming = ctx.incoming
        if incoming.intent != "affirm" or not has_words(incoming.text):
            ctx.say(self._words("forget_cancelled"))
            return state.settled()

        def erase() -> Effect:
            erased = self._erasure.erase(incoming.identity)
            done = self._words("forget_done", accounts=max(len(erased.identities), 1))
            return Effect(messages=[BotMessage(done)], erased=erased.identities)

        ctx.then(erase)
        return SessionState(greeted=True)


class Rights:
    """What the shopper can ask at any time: what we know, and their data to take away."""

    def __init__(self, words: Wording, exports: DataExports) -> None:
        self._words = words
        self._exports = exports

    def what_we_know(self, ctx: TurnContext) -> None:
        """Every stored value and where it came from."""
        purchases = ctx.uow.orders.contexts(person_id=ctx.person.id)
        lines = profile_summary(self._words.bank, ctx.person, purchases)
        if not lines:
            ctx.say(self._words("know_nothing"))
            return
        ctx.say(self._words("know_intro") + "\n" + "\n".join(lines))
        ctx.say(self._words("know_rights"))

    def export(self, ctx: TurnContext) -> None:
        """The shopper's data inline when it is small; otherwise a one-time link."""
        document = self._exports.document(ctx.uow, ctx.person, ctx.at)
        body = json.dumps(document, ensure_ascii=False, default=str)
        policy = self._exports.policy
        if len(body) <= policy.inline_limit:
            ctx.say(self._words("export_inline") + "\n" + body)
            return
        url = self._exports.new_link(ctx.uow, ctx.person, ctx.at)
        ctx.say(self._words("export_link", url=url, minutes=policy.link_minutes))
