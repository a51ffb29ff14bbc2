"""Asking profiling questions: the next one, one at a time, why, clarify, skip, correct.

The question-and-answer half of the conversation (bot/services/conversation.py
dispatches to it): which question comes next within the session's budget, reading a
reply as an answer, clarifying instead of guessing, recording answers with their
provenance, and the one-step correction ("no, weekly") of the last answer.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.model import Person, QuestionRecord, QuestionStatus
from bot.domain.questions import Button, Question, QuestionBank, Vocabulary
from bot.services import planner
from bot.services.consent_talk import CONTACT_QUESTION, ConsentTalk
from bot.services.interpret import (
    Ambiguous,
    Interpretation,
    Understood,
    interpret,
    resolve_clarification,
)
from bot.services.purchase_talk import PurchaseTalk
from bot.services.turn import Incoming, SessionState, TurnContext

if TYPE_CHECKING:
    from bot.services.conversation import ProfilingPolicy

DECLINE_INTENTS = ("skip", "deny")


class Questions:
    """Profiling questions for one shop: its bank, vocabulary and policy."""

    def __init__(
        self,
        bank: QuestionBank,
        vocabulary: Vocabulary,
        policy: "ProfilingPolicy",
        consents: ConsentTalk,
        purchases: PurchaseTalk | None,
    ) -> None:
        self._bank = bank
        self._vocabulary = vocabulary
        self._policy = policy
        self._consents = consents
        self._purchases = purchases

    def _msg(self, key: str, **values: object) -> str:
        return self._bank.message(key, shop_name=self._policy.shop_name, **values)

    def consent_state(self, person: Person, at: datetime) -> planner.ConsentState:
        retry = timedelta(days=self._policy.consent_retry_days)
        return planner.consent_state(person, now=at, retry_after=retry)

    def answer_reply(
        self, ctx: TurnContext, state: SessionState, question: Question
    ) -> SessionState:
        incoming = ctx.incoming
        relevant = [m for m in incoming.mentions if m.entity == question.entity]
        if incoming.intent == "why":
            self.mark(ctx, question, QuestionStatus.ASKED, why=True)
            ctx.say(question.why)
            self.ask(ctx, state, question, again=True)
            return state
        if not relevant and self.try_correction(ctx, state):
            self.ask(ctx, state, question, again=True)
            return state
        if incoming.intent in DECLINE_INTENTS and not relevant:
            self.mark(ctx, question, QuestionStatus.DECLINED)
            ctx.say(self._msg("skip_ack"))
            return self.continue_after(ctx, dataclasses.replace(state, pending=None, clarify=None))
        reading = self._read(question, state, incoming)
        if isinstance(reading, Understood):
            self.store(ctx, question, reading)
            ctx.say(self._msg("confirm", summary=reading.summary))
            state = dataclasses.replace(
                state, pending=None, clarify=None, last_answered=question.id
            )
            if question.id == CONTACT_QUESTION and self._consents.offer(ctx, state, reading.value):
                return state
            return self.continue_after(ctx, state)
        if state.clarify:
            ctx.say(self._msg("move_on"))
            return self.continue_after(ctx, dataclasses.replace(state, pending=None, clarify=None))
        return self._clarify(ctx, state, question, reading)

    def _read(self, question: Question, state: SessionState, incoming: Incoming) -> Interpretation:
        clarify = state.clarify or {}
        if clarify.get("candidates"):
            return resolve_clarification(
                question,
                self._vocabulary,
                tuple(clarify["candidates"]),
                dict(clarify.get("known") or {}),
                incoming.text,
                incoming.mentions,
            )
        own_words = incoming.intent not in ("affirm", "deny", "greet", "thanks", "goodbye")
        return interpret(
            question, self._vocabulary, incoming.text, incoming.mentions, allow_own_words=own_words
        )

    def _clarify(
        self, ctx: TurnContext, state: SessionState, question: Question, reading: Interpretation
    ) -> SessionState:
        skip = Button(self._msg("skip_button"), self._msg("skip_button"))
        if isinstance(reading, Ambiguous):
            labels = [question.label(c) for c in reading.candidates]
            options = " or ".join(
                [", ".join(labels[:-1]), labels[-1]] if len(labels) > 2 else labels
            )
            buttons = (*question.quick_replies(reading.candidates), skip)
            ctx.say(self._msg("clarify_between", options=options), buttons)
            clarify = {"candidates": list(reading.candidates), "known": reading.known}
        else:
            ctx.say(self._msg("clarify_generic"), (*question.quick_replies(), skip))
            clarify = {"candidates": []}
        return dataclasses.replace(state, clarify=clarify)

    def try_correction(self, ctx: TurnContext, state: SessionState) -> bool:
        """ "no, weekly" right after "Got it: daily": update the last answer, keep history."""
        if not state.last_answered or not self._bank.has(state.last_answered):
            return False
        previous = self._bank.get(state.last_answered)
        incoming = ctx.incoming
        if not any(m.entity == previous.entity for m in incoming.mentions):
            return False
        reading = interpret(
            previous, self._vocabulary, incoming.text, incoming.mentions, allow_own_words=False
        )
        if not isinstance(reading, Understood):
            return False
        self.store(ctx, previous, reading)
        ctx.say(self._msg("corrected", summary=reading.summary))
        return True

    # -- asking --------------------------------------------------------------------

    def next_question(self, person: Person, state: SessionState) -> Question | None:
        return planner.next_question(
            self._bank,
            person,
            asked_this_session=state.asked,
            budget=self._policy.questions_per_session,
        )

    def continue_after(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """After an answer: the next question, or a closing line."""
        if self.consent_state(ctx.person, ctx.at) is not planner.ConsentState.GRANTED:
            return state
        if self.ask_something(ctx, state):
            return state
        if planner.remaining(self._bank, ctx.person):
            ctx.say(self._msg("budget_done"))
        else:
            ctx.say(self._msg("nothing_to_ask"))
        return state

    def ask_something(
        self, ctx: TurnContext, state: SessionState, preface: str | None = None
    ) -> bool:
        """Ask about an unusual purchase (one per session) or the next question, if any."""
        if len(state.asked) >= self._policy.questions_per_session:
            return False
        flag = self._purchases.next_flag(ctx, state) if self._purchases else None
        question = None if flag else self.next_question(ctx.person, state)
        if flag is None and question is None:
            return False
        if preface:
            ctx.say(preface)
        if flag is not None and self._purchases:
            self._purchases.ask(ctx, state, flag)
        elif question is not None:
            self.ask(ctx, state, question, again=False)
        return True

    def ask(
        self, ctx: TurnContext, state: SessionState, question: Question, *, again: bool
    ) -> None:
        skip = Button(self._msg("skip_button"), self._msg("skip_button"))
        ctx.say(question.text, (*question.quick_replies(), skip))
        state.pending = question.id
        if not again:
            state.asked.append(question.id)
            self.mark(ctx, question, QuestionStatus.ASKED)

    # -- recording -----------------------------------------------------------------

    def mark(
        self, ctx: TurnContext, question: Question, status: QuestionStatus, *, why: bool = False
    ) -> None:
        previous = ctx.person.questions.get(question.id)
        asked_at = previous.asked_at if previous else None
        if status is QuestionStatus.ASKED and not why:
            asked_at = ctx.at
        record = QuestionRecord(
            question_id=question.id,
            status=status,
            asked_at=asked_at,
            updated_at=ctx.at,
            why_asked=(previous.why_asked if previous else 0) + (1 if why else 0),
        )
        ctx.save_question(record)

    @staticmethod
    def store(ctx: TurnContext, question: Question, reading: Understood) -> None:
        ctx.record_answer(question.id, reading.value)
