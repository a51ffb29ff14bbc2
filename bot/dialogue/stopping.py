"""Confirming an opt-out that only the NLU model saw, before anything is withdrawn.

Stopping the questions and withdrawing consent happen at once only on explicit words:
the shop's opt-out words ("stop"), its withdrawal phrases ("stop texting me") or a
channel named with the opt-out ("quit sending stuff to my inbox"). When the model reads
an opt-out into anything else ("five quiet minutes a day away from everything"), this
part asks first; yes withdraws what "stop" would, anything else withdraws nothing and
the conversation carries on where it was (the pending state `__stop__`).
"""

from __future__ import annotations

from bot.dialogue.marketing import Marketing
from bot.dialogue.parts import Wording
from bot.dialogue.turn import Incoming, SessionState, TurnContext
from bot.domain.questions import EVERYTHING, QuestionBank

STOP_CHECK = "__stop__"
"""`SessionState.pending` while the bot waits for a yes to "shall I stop?"."""


def explicit_opt_out(bank: QuestionBank, incoming: Incoming) -> bool:
    """Whether the message says by itself what to stop (no confirmation needed)."""
    return (
        bank.is_opt_out(incoming.text)
        or bank.withdrawal(incoming.text) is not None
        or any(m.entity == "channel" for m in incoming.mentions)
    )


class StopCheck:
    """The "shall I stop?" confirmation as a dialogue part."""

    def __init__(self, words: Wording, marketing: Marketing) -> None:
        self._words = words
        self._marketing = marketing

    def owns(self, pending: str) -> bool:
        return pending == STOP_CHECK

    def ask(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """Ask first, keeping what was pending to come back to it."""
        self._say(ctx)
        return state.waiting(STOP_CHECK, {"resume": state.pending, "clarify": state.clarify})

    def repeat(self, ctx: TurnContext, state: SessionState) -> SessionState:
        self._say(ctx)
        return state

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """Yes: withdraw as "stop" does. Anything else: nothing changes, back to before."""
        if ctx.incoming.intent == "affirm":
            self._marketing.withdraw(ctx, frozenset({EVERYTHING}))
            return state.settled()
        ctx.say(self._words("stop_not_confirmed"))
        kept = state.clarify or {}
        resume = kept.get("resume")
        clarify = kept.get("clarify")
        return state.waiting(
            resume if isinstance(resume, str) else None,
            clarify if isinstance(clarify, dict) else None,
        )

    def _say(self, ctx: TurnContext) -> None:
        ctx.say(self._words("stop_confirm"), self._words.yes_no())
