"""Asking profiling questions: the next one, one at a time, why, clarify, skip, correct.

Which question comes next within the session's budget, reading a reply as an answer,
clarifying instead of guessing, recording answers with their provenance, and the
one-step correction ("no, weekly") of the last answer. The pending state of a question
is its id; a contact preference leads to the marketing question (bot/dialogue/marketing.py)
and an unusual purchase is asked about before the next question (bot/dialogue/purchases.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.dialogue.marketing import CONTACT_QUESTION, Marketing
from bot.dialogue.parts import Wording
from bot.dialogue.purchases import Purchases
from bot.dialogue.turn import Incoming, SessionState, TurnContext
from bot.domain import planner
from bot.domain.interpret import (
    Ambiguous,
    Interpretation,
    Understood,
    interpret,
    resolve_clarification,
)
from bot.domain.model import Person, QuestionRecord, QuestionStatus
from bot.domain.questions import Question, Vocabulary

DECLINE_INTENTS = ("skip", "deny")


@dataclass(frozen=True)
class ProfilingPolicy:
    """Shop-level knobs of the conversation."""

    questions_per_session: int = 3
    consent_retry_days: int = 30
    shop_name: str = "the shop"


class Questions:
    """Profiling questions for one shop: its bank, vocabulary and policy."""

    def __init__(
        self,
        words: Wording,
        vocabulary: Vocabulary,
        policy: ProfilingPolicy,
        marketing: Marketing,
        purchases: Purchases,
    ) -> None:
        self._words = words
        self._bank = words.bank
        self._vocabulary = vocabulary
        self._policy = policy
        self._marketing = marketing
        self._purchases = purchases

    # -- the dialogue part ---------------------------------------------------------

    def owns(self, pending: str) -> bool:
        return self._bank.has(pending)

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        return self.answer_reply(ctx, state, self._bank.get(state.pending or ""))

    def repeat(self, ctx: TurnContext, state: SessionState) -> SessionState:
        return self.ask(ctx, state, self._bank.get(state.pending or ""), again=True)

    # -- answers ---------------------------------------------------------------------

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
            return self.ask(ctx, state, question, again=True)
        if not relevant and self.try_correction(ctx, state):
            return self.ask(ctx, state, question, again=True)
        if incoming.intent in DECLINE_INTENTS and not relevant:
            self.mark(ctx, question, QuestionStatus.DECLINED)
            ctx.say(self._words("skip_ack"))
            return self.continue_after(ctx, state.settled())
        reading = self._read(question, state, incoming)
        if isinstance(reading, Understood):
            self.store(ctx, question, reading)
            ctx.say(self._words("confirm", summary=reading.summary))
            state = SessionState(
                asked=state.asked, last_answered=question.id, greeted=state.greeted
            )
            if question.id == CONTACT_QUESTION:
                offered = self._marketing.offer(ctx, state, reading.value)
                if offered is not None:
                    return offered
            return self.continue_after(ctx, state)
        if state.clarify:
            ctx.say(self._words("move_on"))
            return self.continue_after(ctx, state.settled())
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
        skip = self._words.button("skip_button")
        if isinstance(reading, Ambiguous):
            labels = [question.label(c) for c in reading.candidates]
            options = " or ".join(
                [", ".join(labels[:-1]), labels[-1]] if len(labels) > 2 else labels
            )
            buttons = (*question.quick_replies(reading.candidates), skip)
            ctx.say(self._words("clarify_between", options=options), buttons)
            clarify = {"candidates": list(reading.candidates), "known": reading.known}
        else:
            ctx.say(self._words("clarify_generic"), (*question.quick_replies(), skip))
            clarify = {"candidates": []}
        return state.waiting(state.pending, clarify)

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
        ctx.say(self._words("corrected", summary=reading.summary))
        return True

    # -- asking --------------------------------------------------------------------

    def next_question(self, person: Person, state: SessionState) -> Question | None:
        return planner.next_question(
            self._bank,
            person,
            asked_this_session=list(state.asked),
            budget=self._policy.questions_per_session,
        )

    def continue_after(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """After an answer: the next question, or a closing line."""
        if self.consent_state(ctx.person, ctx.at) is not planner.ConsentState.GRANTED:
            return state
        asked = self.ask_something(ctx, state)
        if asked is not None:
            return asked
        if planner.remaining(self._bank, ctx.person):
            ctx.say(self._words("budget_done"))
        else:
            ctx.say(self._words("nothing_to_ask"))
        return state

    def ask_something(
        self, ctx: TurnContext, state: SessionState, preface: str | None = None
    ) -> SessionState | None:
        """Ask about an unusual purchase (one per session) or the next question, if any.

        Returns the state waiting for the answer, or None when there is nothing to ask.
        """
        if len(state.asked) >= self._policy.questions_per_session:
            return None
        flag = self._purchases.next_flag(ctx, state)
        question = None if flag else self.next_question(ctx.person, state)
        if flag is None and question is None:
            return None
        if preface:
            ctx.say(preface)
        if flag is not None:
            return self._purchases.ask(ctx, state, flag)
        assert question is not None
        return self.ask(ctx, state, question, again=False)

    def ask(
        self, ctx: TurnContext, state: SessionState, question: Question, *, again: bool
    ) -> SessionState:
        ctx.say(question.text, (*question.quick_replies(), self._words.button("skip_button")))
        if again:
            return state.waiting(question.id, state.clarify)
        self.mark(ctx, question, QuestionStatus.ASKED)
        asked = SessionState(
            asked=(*state.asked, question.id),
            last_answered=state.last_answered,
            greeted=state.greeted,
        )
        return asked.waiting(question.id, state.clarify)

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
