"""The dialogue actions: welcome, handle a reply, opt out, link and unlink accounts."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.session import SLOT_CLARIFY, SLOT_PENDING, emit, incoming_of, state_of
from bot.services.conversation import ConversationService
from bot.services.rasa_api import forget_conversations_later, send_notices_later
from bot.services.runtime import get_services
from bot.services.turn import Incoming, SessionState, Turn

UseCase = Callable[[ConversationService, Incoming, SessionState], Turn]


async def _run(
    use_case: UseCase, dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType]:
    service = get_services().conversation
    incoming, state = incoming_of(tracker), state_of(tracker)
    if service.withdraws(incoming.text):
        # "stop texting me" withdraws consent whatever NLU or the rules made of it.
        use_case = ConversationService.opt_out
    # The store is synchronous: keep it off the action server's event loop.
    turn = await asyncio.to_thread(use_case, service, incoming, state)
    if turn.erased:
        # "Forget me": the chats of every linked account go too, once this action has
        # returned (Rasa holds this conversation's lock until then).
        forget_conversations_later(get_services().settings, turn.erased)
    if turn.notices:
        # "Your link code was just used": said in the issuing chat, on its own channel.
        slots = (SLOT_PENDING, SLOT_CLARIFY)
        send_notices_later(get_services().settings, turn.notices, slots=slots)
    return emit(turn, dispatcher, tracker)


class ActionWelcome(Action):
    """Greets, tells a returning shopper what is known, asks consent or the next question."""

    def name(self) -> str:
        return "action_welcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _run(ConversationService.welcome, dispatcher, tracker)


class ActionHandleReply(Action):
    """Handles a reply to whatever the bot last asked (consent, a question, a clarification)."""

    def name(self) -> str:
        return "action_handle_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _run(ConversationService.reply, dispatcher, tracker)


class ActionOptOut(Action):
    """Stops profiling at once and confirms it."""

    def name(self) -> str:
        return "action_opt_out"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _run(ConversationService.opt_out, dispatcher, tracker)


class ActionLinkAccounts(Action):
    """ "Link my accounts": gives a one-time code, or redeems the one typed."""

    def name(self) -> str:
        return "action_link_accounts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _run(ConversationService.link, dispatcher, tracker)


class ActionUnlinkAccounts(Action):
    """ "Unlink": this chat's account stands alone again."""

    def name(self) -> str:
        return "action_unlink_accounts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _run(ConversationService.unlink, dispatcher, tracker)


class ActionWhatWeKnow(Action):
    """ "What do you know about me?": a readable summary with where each value came from."""

    def name(self) -> str:
        return "action_what_we_know"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _run(ConversationService.what_we_know, dispatcher, tracker)


class ActionForgetMe(Action):
    """ "Forget me": asks for confirmation; the yes is handled as a reply."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _run(ConversationService.forget, dispatcher, tracker)


class ActionChangeValue(Action):
    """ "That's wrong" / "change my ...": corrects a stored answer, history kept."""

    def name(self) -> str:
        return "action_change_value"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _run(ConversationService.change, dispatcher, tracker)


class ActionExportData(Action):
    """ "Export my data": JSON inline when small, else a one-time download link."""

    def name(self) -> str:
        return "action_export_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _run(ConversationService.export, dispatcher, tracker)
