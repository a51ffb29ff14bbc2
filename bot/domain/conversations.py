"""Which Rasa conversation belongs to which channel identity.

Rasa keys a conversation by its sender id alone, whatever the channel. Telegram
(digits), Slack (`U…`/`W…`) and web chat (32 hex characters) ids cannot collide; a
REST caller chooses its sender freely, so REST conversations are namespaced: sender
`alice` is the conversation `rest:alice` (no other channel's id holds a colon), and
a REST caller can never reach a Telegram, Slack or web chat conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.model import Identity
from bot.domain.questions import Button

REST = "rest"
REST_PREFIX = "rest:"
SOURCE_KEY = "rapport_source"
"""Message metadata: pseudonym of the sender's address, set by Rapport's connectors only."""
NOT_CONVERSATIONS = frozenset({"shop"})
"""Identities that are not chats (a shop customer id)."""


def conversation_id(identity: Identity) -> str | None:
    """The Rasa sender id of `identity`'s chat, or None when it is not a chat."""
    if identity.channel in NOT_CONVERSATIONS:
        return None
    if identity.channel == REST:
        return REST_PREFIX + identity.external_id
    return identity.external_id


def identity_of(channel: str, sender_id: str) -> Identity:
    """The channel identity behind a Rasa conversation of `channel`."""
    if channel == REST and sender_id.startswith(REST_PREFIX):
        return Identity(channel, sender_id[len(REST_PREFIX) :])
    return Identity(channel, sender_id)


@dataclass(frozen=True)
class BotMessage:
    """One message to send, with optional quick replies."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Notice:
    """A message for another conversation, and the state it leaves that conversation in."""

    identity: Identity
    message: BotMessage
    pending: str
    clarify: dict[str, Any]
