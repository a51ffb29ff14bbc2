"""Translation between Rasa trackers and the conversation service's plain values."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.turn import Incoming, SessionState, Turn
from bot.domain.conversations import SOURCE_KEY
from bot.domain.conversations import identity_of as conversation_identity
from bot.domain.interpret import Mention
from bot.domain.model import Identity

SLOT_PENDING = "rp_pending"
SLOT_CLARIFY = "rp_clarify"
SLOT_ASKED = "rp_asked"
SLOT_LAST = "rp_last_answered"
SLOT_GREETED = "rp_greeted"


def identity_of(tracker: Tracker) -> Identity:
    """The channel identity of the shopper behind this conversation."""
    channel = tracker.get_latest_input_channel() or "unknown"
    return conversation_identity(channel, tracker.sender_id)


def _mentions(message: dict[str, Any]) -> list[Mention]:
    mentions = []
    for entity in message.get("entities") or []:
        start, end = entity.get("start"), entity.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        mentions.append(Mention(str(entity.get("entity")), str(entity.get("value")), start, end))
    return mentions


def incoming_of(tracker: Tracker) -> Incoming:
    """The latest shopper message as the service sees it."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name") or "nlu_fallback"
    message_id: str | None = message.get("message_id")
    metadata = message.get("metadata")
    source = metadata.get(SOURCE_KEY) if isinstance(metadata, dict) else None
    return Incoming(
        identity=identity_of(tracker),
        intent=str(intent),
        text=str(message.get("text") or ""),
        mentions=_mentions(message),
        message_ref=str(message_id) if message_id else None,
        source=source if isinstance(source, str) else None,
    )


def _clarify_slot(value: Any) -> dict[str, Any] | None:
    # A list slot holding at most one dict: Rasa has no dict slot type.
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return dict(value[0])
    return None


def state_of(tracker: Tracker) -> SessionState:
    """The session state kept in slots."""
    asked = tracker.get_slot(SLOT_ASKED)
    return SessionState(
        pending=tracker.get_slot(SLOT_PENDING) or None,
        clarify=_clarify_slot(tracker.get_slot(SLOT_CLARIFY)),
        asked=tuple(str(a) for a in asked) if isinstance(asked, list) else (),
        last_answered=tracker.get_slot(SLOT_LAST) or None,
        greeted=bool(tracker.get_slot(SLOT_GREETED)),
    )


def emit(turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Send the turn's messages; return slot events for the session state that changed.

    Unchanged slots are left out: every event costs Rasa a schema check and a
    deserialisation per turn.
    """
    for message in turn.messages:
        buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        dispatcher.utter_message(text=message.text, buttons=buttons or None)
    state = turn.state
    wanted: dict[str, Any] = {
        SLOT_PENDING: state.pending,
        SLOT_CLARIFY: [state.clarify] if state.clarify else None,
        SLOT_ASKED: list(state.asked),
        SLOT_LAST: state.last_answered,
        SLOT_GREETED: state.greeted,
    }
    return [
        SlotSet(name, value)
        for name, value in wanted.items()
        if _normalised(tracker.get_slot(name)) != _normalised(value)
    ]


def _normalised(value: Any) -> Any:
    # Rasa reports an unset list slot as None and an unset bool slot as None or False.
    return None if value in ([], False) else value
