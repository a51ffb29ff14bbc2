"""What a Telegram update asks of the bot, decided before the webhook acknowledges it.

`parse_update` reads a webhook body into PTB's `Update`; `classify` turns it into an
`Inbound` (the welcome, a text, something that is not text, a pressed button) or
None for what the bot ignores: groups, supergroups and channels, edited messages,
service messages. PTB does not check field types, so a wrong one is a
`MalformedUpdate` (the webhook answers 400).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from telegram import Chat, Update

Kind = Literal["start", "text", "non_text", "callback"]

_START = re.compile(r"/start(@[A-Za-z0-9_]{1,64})?")


@dataclass(frozen=True)
class Inbound:
    """What one update asks of the bot, decided before it is acknowledged."""

    update_id: int
    kind: Kind
    chat_id: int
    sender_id: str
    text: str = ""
    callback_id: str = ""


class MalformedUpdate(ValueError):
    """An update PTB parsed, but whose fields do not have the types Telegram sends."""


def _ids(chat: Any, user: Any) -> tuple[int, str]:
    """The chat id and the sender id; PTB does not check types, so it is done here."""
    chat_id, user_id = getattr(chat, "id", None), getattr(user, "id", None)
    if type(chat_id) is not int or type(user_id) is not int:
        raise MalformedUpdate("chat and user ids must be integers")
    return chat_id, str(user_id)


def _from_callback(update: Update) -> Inbound | None:
    query = update.callback_query
    if query is None or query.message is None:
        return None
    if getattr(query.message, "chat", None) is None:
        raise MalformedUpdate("a button press must come with its message's chat")
    if query.message.chat.type != Chat.PRIVATE:
        return None
    chat_id, sender_id = _ids(query.message.chat, query.from_user)
    if not isinstance(query.id, str) or not isinstance(query.data, (str, type(None))):
        raise MalformedUpdate("callback query id and data must be strings")
    return Inbound(update.update_id, "callback", chat_id, sender_id, query.data or "", query.id)


def _from_message(update: Update) -> Inbound | None:
    message = update.message  # edited messages and channel posts are not `message`
    if message is not None and message.chat is None:
        raise MalformedUpdate("a message must have a chat")
    if message is None or message.chat.type != Chat.PRIVATE or message.from_user is None:
        return None
    chat_id, sender_id = _ids(message.chat, message.from_user)
    text = message.text
    if not isinstance(text, (str, type(None))):
        raise MalformedUpdate("message text must be a string")
    if text is None:
        if message.effective_attachment is None:
            return None  # a service message (pinned, ...), not something the shopper sent
        return Inbound(update.update_id, "non_text", chat_id, sender_id)
    kind: Kind = "start" if _START.fullmatch(text.strip()) else "text"
    return Inbound(update.update_id, kind, chat_id, sender_id, text)


def classify(update: Update) -> Inbound | None:
    """The work an update asks for, or None when it is ignored (groups, edits, others).

    Raises MalformedUpdate when a field the bot relies on has the wrong type.
    """
    if update.callback_query is not None:
        return _from_callback(update)
    return _from_message(update)


def parse_update(body: bytes) -> Update | None:
    """The Telegram Update in a webhook body, or None when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.de_json(data, None)
    except Exception:  # PTB raises KeyError / TypeError / ValueError on malformed shapes
        return None
