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

from bot.config import load_settings
from bot.services.content import load_content

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


def check(text: Any, *, limit: int) -> Verdict:
    """Decide what to do with one inbound message text."""
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
    if first in _SLASHES or unicodedata.normalize("NFKC", first) == "/":
        return Verdict(text="", reply="command_blocked")
    return Verdict(text=cleaned.strip())


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def guarded(on_new_message: OnNewMessage) -> OnNewMessage:
    """Wrap Rasa's message handler so every message passes `check` first."""
    settings = load_settings()

    async def handle(message: UserMessage) -> Any:
        verdict = check(message.text, limit=settings.max_message_chars)
        if verdict.reply is None:
            message.text = verdict.text
            return await on_new_message(message)
        logger.info(
            "message refused by guard: %s (channel %s)", verdict.reply, message.input_channel
        )
        bank, _ = load_content(settings.content_dir)
        reply = bank.message(verdict.reply, length=verdict.length, limit=settings.max_message_chars)
        await message.output_channel.send_text_message(message.sender_id, reply)
        return None

    return handle
