"""The one small interface every part of the conversation offers the dispatcher.

A part owns some of the states the bot can be waiting in (`SessionState.pending`, in
the part's own encoding): it says whether a pending state is its own, answers the
shopper's reply to it, and asks it again when the conversation comes back to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.dialogue.turn import SessionState, TurnContext
from bot.domain.questions import Button, QuestionBank


class DialoguePart(Protocol):
    """A part of the conversation that can leave the bot waiting for an answer."""

    def owns(self, pending: str) -> bool:
        """Whether `pending` is one of this part's states."""

    def reply(self, ctx: TurnContext, state: SessionState) -> SessionState | None:
        """Answer the reply to this part's pending state; None: not an answer to it (the
        dispatcher handles the message as if nothing were pending)."""

    def repeat(self, ctx: TurnContext, state: SessionState) -> SessionState:
        """Ask again what this part is waiting for (after "hi", "why?", an interruption)."""


@dataclass(frozen=True)
class Wording:
    """The shop's messages, with the shop's name filled in."""

    bank: QuestionBank
    shop_name: str = "the shop"

    def __call__(self, key: str, **values: object) -> str:
        return self.bank.message(key, shop_name=self.shop_name, **values)

    def button(self, key: str, **values: object) -> Button:
        """A quick reply whose payload is its title."""
        title = self(key, **values)
        return Button(title, title)

    def yes_no(self) -> tuple[Button, ...]:
        return (self.button("yes_button"), self.button("no_button"))
