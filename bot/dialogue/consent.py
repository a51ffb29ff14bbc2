"""Asking for profiling consent, and the shopper's yes, no, why or something else.

The pending state `__consent__` is this part's. A yes is recorded with the hash of the
exact request shown and the first question follows; a no is recorded and respected for
the configured period; "why?" explains and asks again; anything unclear is asked once
more, then the bot moves on without recording anything.
"""

from __future__ import annotations

from bot.dialogue.ledger import record_consent
from bot.dialogue.parts import Wording
from bot.dialogue.questions import DECLINE_INTENTS, Questions
from bot.dialogue.turn import SessionState, TurnContext
from bot.domain import planner
from bot.domain.model import PROFILING, ConsentStatus

CONSENT = "__consent__"
"""`SessionState.pending` while the bot waits for a yes/no to profiling."""


class ProfilingConsent:
    """The profiling consent request as a dialogue part."""

    def __init__(self, words: Wording, questions: Questions) -> None:
        self._words = words
        self._questions = questions

    def owns(self, pending: str) -> bool:
        return pending == CONSENT

    def repeat(self, ctx: TurnContext, state: SessionState) -> SessionState:
        self.ask(ctx)
        return state

    def ask(self, ctx: TurnContext) -> None:
        ctx.say(self._words("consent_request"), self._words.yes_no())

    def offer(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """With nothing pending: ask for consent, ask the next question, or just help."""
        consent = self._questions.consent_state(ctx.person, ctx.at)
        if consent is planner.ConsentState.ASK:
            self.ask(ctx)
            return state.waiting(CONSENT)
        if consent is planner.ConsentState.GRANTED:
            asked = self._questions.ask_something(ctx, state)
            if asked is not None:
                return asked
        ctx.say(self._words("help"))
        return state

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        intent = ctx.incoming.intent
        if intent == "affirm":
            self._record(ctx, ConsentStatus.GRANTED)
            granted = self._words("consent_granted")
            asked = self._questions.ask_something(ctx, state.settled(), preface=granted)
            if asked is not None:
                return asked
            ctx.say(self._words("nothing_to_ask"))
            return state.settled()
        if intent in DECLINE_INTENTS:
            self._record(ctx, ConsentStatus.DENIED)
            ctx.say(self._words("consent_denied"))
            return state.settled()
        if intent == "why":
            ctx.say(self._words("consent_why"))
            self.ask(ctx)
            return state
        if state.clarify:
            ctx.say(self._words("consent_moved_on"))
            return state.settled()
        ctx.say(self._words("consent_clarify"), self._words.yes_no())
        return state.waiting(CONSENT, {"consent": True})

    def _record(self, ctx: TurnContext, status: ConsentStatus) -> None:
        wording = self._words("consent_request")
        record_consent(ctx, self._words.bank, purpose=PROFILING, status=status, wording=wording)
