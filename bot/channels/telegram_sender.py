"""Outbound side of the Telegram channel: splitting, inline keyboards, rate limits, 429 retries.

Telegram allows about one message per second in one chat and about thirty per second
overall, and answers a burst with HTTP 429 and a `retry_after`. `TelegramSender` keeps
under both limits with two `aiolimiter.AsyncLimiter`s (one per chat, one for the bot),
honours `retry_after` a bounded number of times, and initialises the PTB `Bot` lazily on
its first call (never at import or start-up). Texts over Telegram's 4,096-character
limit are split on paragraph, line or word boundaries; buttons go on the last part.
Callback data is limited to 64 bytes: longer button payloads are kept in a small
in-process table (`CallbackPayloads`) and the button carries a short key instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import warnings
from collections import OrderedDict
from datetime import timedelta
from typing import Any, Awaitable, Callable, Mapping, Sequence

from aiolimiter import AsyncLimiter
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter, TelegramError

logger = logging.getLogger(__name__)

MAX_MESSAGE_UNITS = 4096
"""Telegram's limit for one message, counted in UTF-16 code units."""
MAX_CALLBACK_BYTES = 64
KEY_PREFIX = "rp#"
"""Marks callback data that is a key into `CallbackPayloads`, not the payload itself."""


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _fit(text: str, limit: int) -> int:
    """The longest prefix length of `text` that is at most `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += _units(char)
        if units > limit:
            return index
    return len(text)


def _boundary(window: str) -> int:
    """Where to cut `window`: the last paragraph, line or word break in its second half."""
    for separator in ("\n\n", "\n", " "):
        index = window.rfind(separator)
        if index > 0 and index >= len(window) // 2:
            return index
    return len(window)


def split_text(text: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """`text` as parts of at most `limit` UTF-16 units each, cut at natural breaks if possible."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        end = _fit(rest, limit)
        if end == len(rest):
            parts.append(rest)
            break
        cut = _boundary(rest[:end])
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


class CallbackPayloads:
    """Button payloads as callback data: short ones as they are, long ones behind a key.

    The table is in-process and bounded (oldest keys are forgotten first), so a very
    old button with a long payload may no longer resolve after a restart.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._by_key: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        """Callback data for `payload` (at most 64 bytes)."""
        if len(payload.encode()) <= MAX_CALLBACK_BYTES and not payload.startswith(KEY_PREFIX):
            return payload
        key = KEY_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:24]
        self._by_key[key] = payload
        self._by_key.move_to_end(key)
        while len(self._by_key) > self._capacity:
            self._by_key.popitem(last=False)
        return key

    def decode(self, data: str) -> str | None:
        """The payload behind callback `data`; None for a key this process does not know."""
        if not data.startswith(KEY_PREFIX):
            return data
        return self._by_key.get(data)


def inline_keyboard(
    buttons: Sequence[Mapping[str, Any]], payloads: CallbackPayloads
) -> InlineKeyboardMarkup | None:
    """One inline button per row from Rasa button dicts `{"title", "payload"}`."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        title = str(button.get("title") or "")
        payload = str(button.get("payload") or title)
        if title and payload:
            rows.append([InlineKeyboardButton(title, callback_data=payloads.encode(payload))])
    return InlineKeyboardMarkup(rows) if rows else None


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, whichever type PTB reports it as."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 warns that the int form is deprecated
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class RedactToken(logging.Filter):
    """Hides the bot token in records of the HTTP client's logger (httpx logs every URL,
    and Bot API URLs contain the token: `/bot<token>/sendMessage`)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token and self._token in message:
            record.msg, record.args = message.replace(self._token, "<token>"), ()
        return True


def redact_token_in_http_logs(token: str) -> None:
    """Install `RedactToken` on httpx's logger once for `token`."""
    http_logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactToken) and f._token == token for f in http_logger.filters):
        http_logger.addFilter(RedactToken(token))


class TelegramSender:
    """Sends messages through a PTB `Bot` within Telegram's rate limits.

    Args:
        bot: the PTB bot; initialised (`getMe`) on the first call, not before.
        per_chat_per_second: messages per second to one chat.
        overall_per_second: messages per second for the whole bot.
        max_retries: how many times a 429 is waited out before giving up.
        sleep: how to wait for `retry_after` (tests may replace it).
    """

    def __init__(
        self,
        bot: Bot,
        *,
        per_chat_per_second: float = 1.0,
        overall_per_second: float = 30.0,
        max_retries: int = 3,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_chats: int = 10_000,
    ) -> None:
        self._bot = bot
        self._chat_period = 1.0 / per_chat_per_second
        self._overall = AsyncLimiter(overall_per_second, 1.0)
        self._chats: OrderedDict[int | str, AsyncLimiter] = OrderedDict()
        self._max_chats = max_chats
        self._max_retries = max_retries
        self._sleep = sleep
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def _bot_ready(self) -> Bot:
        if not self._ready:
            async with self._ready_lock:
                if not self._ready:
                    await self._bot.initialize()
                    self._ready = True
        return self._bot

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = self._chats[chat_id] = AsyncLimiter(1, self._chat_period)
            while len(self._chats) > self._max_chats:
                self._chats.popitem(last=False)
        self._chats.move_to_end(chat_id)
        return limiter

    async def _send_one(
        self, chat_id: int | str, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        bot = await self._bot_ready()
        for attempt in range(self._max_retries + 1):
            async with self._chat_limiter(chat_id), self._overall:
                try:
                    await bot.send_message(chat_id, text, reply_markup=markup)
                    return
                except RetryAfter as error:
                    if attempt == self._max_retries:
                        raise
                    delay = retry_seconds(error)
            logger.warning("Telegram rate limit hit: retrying in %.1f s", delay)
            await self._sleep(delay)

    async def send_text(
        self, chat_id: int | str, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        """Send `text` (split if too long) to `chat_id`; `markup` goes on the last part."""
        parts = split_text(text)
        for index, part in enumerate(parts):
            await self._send_one(chat_id, part, markup if index == len(parts) - 1 else None)

    async def answer_callback(self, callback_query_id: str) -> None:
        """Stop the client's spinner on a pressed button; failures are logged, not raised."""
        bot = await self._bot_ready()
        try:
            async with self._overall:
                await bot.answer_callback_query(callback_query_id)
        except TelegramError as error:
            logger.warning("answering a Telegram callback failed: %s", type(error).__name__)

    async def close(self) -> None:
        """Release the bot's HTTP connections."""
        if self._ready:
            await self._bot.shutdown()
            self._ready = False
