"""What a Slack delivery asks the bot to answer: a shopper's message or a click on our button.

Events API deliveries are JSON; interactivity (button clicks) is a form with a JSON
`payload` field. Only a shopper's own message in their DM with the bot, a mention of
the bot, or a click on one of our buttons is answered; bots' messages, edits and other
subtypes are not. Each answerable delivery becomes an `Inbound` with its
de-duplication keys: by event and by the underlying message for events, by the click
for interactivity.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import parse_qs

from bot.channels import slack_blocks

_LEADING_MENTION = re.compile(r"^\s*<@([A-Z0-9]+)(?:\|[^>]*)?>\s*")
_ID = re.compile(r"[A-Za-z0-9._-]{1,63}")


@dataclass(frozen=True)
class Inbound:
    """One shopper message to answer: text, who, where, and its de-duplication keys."""

    text: str
    user: str
    channel: str
    keys: tuple[str, ...]
    ref: str


def parse_json(body: bytes) -> dict[str, Any] | None:
    """The JSON object in `body`, or None when it is not one."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def parse_form_payload(body: bytes) -> dict[str, Any] | None:
    """The JSON object in the `payload` field of a form body, or None."""
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (ValueError, UnicodeDecodeError):
        return None
    payload = form.get("payload")
    return parse_json(payload[0].encode()) if payload else None


def _str(value: Any) -> str | None:
    """`value` when it is shaped like a Slack id or timestamp (`U024BE7LH`, `1712345678.000100`).

    Ids are stored (identities, receipts, message references), so anything else (NUL and
    other control characters, unpaired surrogates, kilobytes of text) counts as missing.
    """
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def bot_user_of(envelope: Mapping[str, Any]) -> str | None:
    """The bot's own user id, from `authorizations[0].user_id` when Slack sends it."""
    authorizations = envelope.get("authorizations")
    if isinstance(authorizations, list) and authorizations:
        return _str(_dict(authorizations[0]).get("user_id"))
    return None


def strip_mention(text: str, bot_user: str | None) -> str:
    """`text` without a leading `<@BOT>` mention (any leading mention if the bot is unknown)."""
    match = _LEADING_MENTION.match(text)
    if match and (bot_user is None or match.group(1) == bot_user):
        return text[match.end() :]
    return text


def _answerable(event: Mapping[str, Any], bot_user: str | None) -> bool:
    """A shopper's own message in a DM, or a mention of the bot; nothing from bots."""
    kind = event.get("type")
    if kind == "message" and event.get("channel_type") != "im":
        return False
    if kind not in ("message", "app_mention"):
        return False
    if event.get("subtype") or event.get("bot_id") or event.get("bot_profile"):
        return False
    user = _str(event.get("user"))
    return user is not None and user != bot_user


def event_inbound(envelope: Mapping[str, Any]) -> Inbound | None:
    """The message to answer in an `event_callback` envelope, or None to ignore it."""
    event = _dict(envelope.get("event"))
    bot_user = bot_user_of(envelope)
    if not _answerable(event, bot_user):
        return None
    user, channel, ts = _str(event.get("user")), _str(event.get("channel")), _str(event.get("ts"))
    if user is None or channel is None or ts is None:
        return None
    text = event.get("text")
    raw = text if isinstance(text, str) else ""
    event_id = _str(envelope.get("event_id"))
    keys = (f"event:{event_id}",) if event_id else ()
    return Inbound(
        text=slack_blocks.plain_text(strip_mention(raw, bot_user)),
        user=user,
        channel=channel,
        keys=(*keys, f"msg:{channel}:{ts}"),
        ref=f"{channel}:{ts}",
    )


def _clicked(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first of our buttons among the payload's actions."""
    actions = payload.get("actions")
    for action in actions if isinstance(actions, list) else []:
        action = _dict(action)
        action_id = _str(action.get("action_id")) or ""
        if (
            action.get("type") == "button"
            and action_id.startswith(slack_blocks.ACTION_PREFIX)
            and isinstance(action.get("value"), str)
        ):
            return action
    return None


def click_inbound(payload: Mapping[str, Any]) -> Inbound | None:
    """The shopper text behind a `block_actions` click on one of our buttons, or None."""
    if payload.get("type") != "block_actions":
        return None
    action = _clicked(payload)
    container = _dict(payload.get("container"))
    user = _str(_dict(payload.get("user")).get("id"))
    channel = _str(_dict(payload.get("channel")).get("id")) or _str(container.get("channel_id"))
    if action is None or user is None or channel is None:
        return None
    message_ts = _str(container.get("message_ts")) or ""
    action_ts = _str(action.get("action_ts")) or ""
    return Inbound(
        text=action["value"],
        user=user,
        channel=channel,
        keys=(f"action:{channel}:{message_ts}:{action_ts}:{user}",),
        ref=f"{channel}:{action_ts or message_ts}",
    )
