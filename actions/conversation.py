"""The dialogue actions: one per use case of the conversation, all alike.

Each action is built by the action server with the process's conversation service and
settings (bot/actionserver.py, from bot/bootstrap.py): tracker in, one service call,
changed slots out.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.session import SLOT_CLARIFY, SLOT_PENDING, emit, incoming_of, state_of
from bot.adapters.rasa_api import forget_conversations_later, send_notices_later
from bot.config import Settings
from bot.dialogue import ConversationService
from bot.dialogue.turn import Incoming, SessionState, Turn

UseCase = Callable[[ConversationService, Incoming, SessionState], Turn]

USE_CASES: dict[str, UseCase] = {
    "action_welcome": ConversationService.welcome,
    "action_handle_reply": ConversationService.reply,
    "action_opt_out": ConversationService.opt_out,
    "action_link_accounts": ConversationService.link,
    "action_unlink_accounts": ConversationService.unlink,
    "action_what_we_know": ConversationService.what_we_know,
    "action_forget_me": ConversationService.forget,
    "action_change_value": ConversationService.change,
    "action_export_data": ConversationService.export,
}
"""Each custom action of domain.yml and the use case it runs."""


class ConversationAction(Action):
    """A dialogue action: runs its use case on the shopper's latest message."""

    def __init__(self, name: str, conversation: ConversationService, settings: Settings) -> None:
        self._name = name
        self._use_case = USE_CASES[name]
        self._conversation = conversation
        self._settings = settings

    def name(self) -> str:
        return self._name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        service, use_case = self._conversation, self._use_case
        incoming, state = incoming_of(tracker), state_of(tracker)
        if service.withdraws(incoming.text):
            # "stop texting me" withdraws consent whatever NLU or the rules made of it.
            use_case = ConversationService.opt_out
        # The store is synchronous: keep it off the action server's event loop.
        turn = await asyncio.to_thread(use_case, service, incoming, state)
        if turn.erased:
            # "Forget me": the chats of every linked account go too, once this action has
            # returned (Rasa holds this conversation's lock until then).
            forget_conversations_later(self._settings, turn.erased)
        if turn.notices:
            # "Your link code was just used": said in the issuing chat, on its own channel.
            send_notices_later(self._settings, turn.notices, slots=(SLOT_PENDING, SLOT_CLARIFY))
        return emit(turn, dispatcher, tracker)


def dialogue_actions(conversation: ConversationService, settings: Settings) -> list[Action]:
    """Every dialogue action, built for `conversation`."""
    return [ConversationAction(name, conversation, settings) for name in USE_CASES]
