"""Checks every shopper message before Rasa sees it: empty, oversized, or a typed `/intent` command.

Rasa treats text starting with "/" as a pre-parsed intent with entities
(`/affirm`, `/inform{"channel": "email"}`). A shopper must never be able to
grant consent or set values that way, so such text is answered here and never
reaches NLU. The bot's own quick replies send plain text, so they still work.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage

from bot.adapters.content import load_content
from bot.channels.limits import RateLimits
from bot.config import Settings
from bot.domain.conversations import SOURCE_KEY

logger = logging.getLogger(__name__)

# Characters that render as nothing: a "/" behind them is still a leading "/".
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
_SLASHES = {"/", "\uff0f", "\u2215", "\u2044", "\u29f8"}
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Verdict:
    """The guard's decision: pass `text` on, or answer with `reply` (a message key)."""

    text: str
    reply: str | None = None
    length: int = 0


def _visible_start(text: str) -> str:
    for char in text:
        if char.isspace() or char in _INVISIBLE or unicodedata.category(char) in ("Cf", "Cc"):
            continue
        return char
    return ""


GREET = "/greet"
"""What the widget's opening payload becomes: Rasa reads it as the intent `greet`."""


def check(text: Any, *, limit: int, init_payload: str | None = None) -> Verdict:
    """Decide what to do with one inbound message text.

    `init_payload` (a chat widget's opening message, e.g. "/greet") is the one typed
    command let through, exactly as configured, and always as the greeting.
    """
    if not isinstance(text, str):
        return Verdict(text="", reply="empty")
    # NUL is dropped; an unpaired surrogate (a JSON "\ud800" escape) cannot be encoded
    # as UTF-8 by NLU or the store, so it becomes U+FFFD.
    cleaned = _SURROGATE.sub("\ufffd", text.replace("\x00", ""))
    if len(cleaned) > limit:
        return Verdict(text="", reply="too_long", length=len(cleaned))
    first = _visible_start(cleaned)
    if not first:
        return Verdict(text="", reply="empty")
    if init_payload is not None and cleaned.strip() == init_payload:
        return Verdict(text=GREET)
    if first in _SLASHES or unicodedata.normalize("NFKC", first) == "/":
        return Verdict(text="", reply="command_blocked")
    return Verdict(text=cleaned.strip())


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def source_of(message: UserMessage) -> str | None:
    """The source pseudonym a connector put on `message`, if any."""
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    source = metadata.get(SOURCE_KEY)
    return source if isinstance(source, str) else None


def guarded(
    on_new_message: OnNewMessage,
    *,
    settings: Settings,
    limits: RateLimits | None = None,
    limit_sources: bool = False,
) -> OnNewMessage:
    """Wrap Rasa's message handler so every message passes `check` and the rate limits first.

    Args:
        on_new_message: Rasa's handler.
        settings: the process settings (the composition root's).
        limits: the connector's rate limits; None: none (the welcome, for example).
        limit_sources: also count messages per source address (the web chat).
    """
    bank, _ = load_content(settings.content_dir)  # cached: the composition root's bank

    async def refuse(message: UserMessage, reply: str, length: int = 0) -> None:
        logger.info("message refused by guard: %s (channel %s)", reply, message.input_channel)
        text = bank.message(reply, length=length, limit=settings.max_message_chars)
        await message.output_channel.send_text_message(message.sender_id, text)

    async def handle(message: UserMessage) -> Any:
        verdict = check(
            message.text,
            limit=settings.max_message_chars,
            init_payload=settings.widget_init_payload,
        )
        if verdict.reply is not None:
            return await refuse(message, verdict.reply, verdict.length)
        if limits is not None and not limits.message(
            channel=str(message.input_channel),
            conversation=message.sender_id,
            source=source_of(message) if limit_sources else None,
        ):
            return await refuse(message, "rate_limited")
        message.text = verdict.text
        return await on_new_message(message)

    return handle
