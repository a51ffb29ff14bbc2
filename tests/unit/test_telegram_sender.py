"""The Telegram sender: splitting, keyboards, rate limits and 429 retries, with the real PTB Bot.

Every test that sends talks HTTP to the local fake Bot API (tests/fakes/telegram_api.py).
The burst test waits out the real per-chat rate limit: about 19 s, the one slow test here.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Iterator

import pytest
from telegram import Bot

from bot.channels.telegram_sender import (
    KEY_PREFIX,
    MAX_CALLBACK_BYTES,
    CallbackPayloads,
    TelegramSender,
    inline_keyboard,
    split_text,
)
from tests.fakes.telegram_api import FakeTelegramApi

CHAT = 4242


@pytest.fixture
def fake() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi() as api:
        yield api


def sender_for(fake: FakeTelegramApi, per_chat_per_second: float = 1.0) -> TelegramSender:
    bot = Bot(fake.token, base_url=fake.base_url)
    return TelegramSender(bot, per_chat_per_second=per_chat_per_second)


async def send_all(sender: TelegramSender, texts: list[str]) -> None:
    try:
        for text in texts:
            await sender.send_text(CHAT, text)
    finally:
        await sender.close()


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- splitting -----------------------------------------------------------------------


def test_short_text_is_one_part() -> None:
    assert split_text("  Hello there.  ") == ["Hello there."]
    assert split_text("   ") == []


def test_long_text_is_split_on_paragraphs_first() -> None:
    first, second = "a" * 3000, "b" * 3000
    assert split_text(f"{first}\n\n{second}") == [first, second]


def test_long_text_without_paragraphs_is_split_on_lines_then_words() -> None:
    lines = "\n".join(["word " * 100] * 20)
    parts = split_text(lines)
    assert len(parts) == 3
    assert all(utf16(p) <= 4096 for p in parts)
    assert all(not p.endswith("wor") and p.endswith("word") for p in parts)
    assert " ".join(" ".join(p.split()) for p in parts) == " ".join(lines.split())

    words = "calm " * 2000
    parts = split_text(words)
    assert all(utf16(p) <= 4096 and p.endswith("calm") for p in parts)
    assert sum(p.count("calm") for p in parts) == 2000


def test_unbroken_text_is_cut_hard_and_emoji_count_double() -> None:
    parts = split_text("x" * 5000)
    assert [len(p) for p in parts] == [4096, 904]
    emoji = split_text("🙂" * 3000)  # 2 UTF-16 units each, as Telegram counts them
    assert [len(p) for p in emoji] == [2048, 952]


# --- buttons -------------------------------------------------------------------------


def test_buttons_become_one_inline_button_per_row() -> None:
    markup = inline_keyboard(
        [{"title": "Weekly", "payload": "Weekly"}, {"title": "Skip", "payload": "Skip"}],
        CallbackPayloads(),
    )
    assert markup is not None
    rows = markup.to_dict()["inline_keyboard"]
    assert rows == [
        [{"text": "Weekly", "callback_data": "Weekly"}],
        [{"text": "Skip", "callback_data": "Skip"}],
    ]
    assert inline_keyboard([], CallbackPayloads()) is None


def test_long_payloads_travel_as_short_keys() -> None:
    payloads = CallbackPayloads()
    long = "I'd like to hear from you by email and by SMS, but never on WhatsApp, thanks"
    data = payloads.encode(long)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES and data.startswith(KEY_PREFIX)
    assert payloads.decode(data) == long
    assert payloads.encode("Weekly") == "Weekly" and payloads.decode("Weekly") == "Weekly"
    assert payloads.decode(KEY_PREFIX + "unknown") is None
    tricky = KEY_PREFIX + "looks like a key"
    assert payloads.decode(payloads.encode(tricky)) == tricky


# --- sending through the fake Bot API ------------------------------------------------------


def test_buttons_go_on_the_last_part_only(fake: FakeTelegramApi) -> None:
    markup = inline_keyboard([{"title": "Yes", "payload": "Yes"}], CallbackPayloads())
    text = "a" * 3000 + "\n\n" + "b" * 3000

    async def run() -> None:
        sender = sender_for(fake, per_chat_per_second=100)
        try:
            await sender.send_text(CHAT, text, markup)
        finally:
            await sender.close()

    asyncio.run(run())
    sent = fake.sent(CHAT)
    assert [c.text for c in sent] == ["a" * 3000, "b" * 3000]
    assert sent[0].markup() is None
    assert sent[1].button_data() == ["Yes"]
    assert fake.calls()[0].method == "getMe"  # initialised on first use


def test_a_429_is_waited_out_then_delivered_once(fake: FakeTelegramApi) -> None:
    fake.fail_next_sends(1, retry_after=1)
    asyncio.run(send_all(sender_for(fake), ["hello"]))
    attempts = fake.calls("sendMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert [c.text for c in fake.sent(CHAT)] == ["hello"]


def test_retries_are_bounded(fake: FakeTelegramApi) -> None:
    from telegram.error import RetryAfter

    fake.fail_next_sends(5, retry_after=1)

    async def no_wait(_: float) -> None:
        return None

    sender = TelegramSender(Bot(fake.token, base_url=fake.base_url), max_retries=2, sleep=no_wait)
    with pytest.raises(RetryAfter):
        asyncio.run(send_all(sender, ["hello"]))
    assert len(fake.calls("sendMessage")) == 3
    assert fake.sent(CHAT) == []


def test_a_burst_to_one_chat_leaves_at_one_message_per_second(fake: FakeTelegramApi) -> None:
    started = time.monotonic()
    asyncio.run(send_all(sender_for(fake), [f"reply {n}" for n in range(20)]))
    sent = fake.sent(CHAT)
    assert [c.text for c in sent] == [f"reply {n}" for n in range(20)]
    gaps = [b.at - a.at for a, b in itertools.pairwise(sent)]
    assert sent[-1].at - sent[0].at >= 18.0
    assert min(gaps) >= 0.8, gaps
    assert time.monotonic() - started < 30


def test_different_chats_are_not_slowed_by_each_other(fake: FakeTelegramApi) -> None:
    async def run() -> None:
        sender = sender_for(fake)
        try:
            await asyncio.gather(*(sender.send_text(chat, "hi") for chat in range(1, 11)))
        finally:
            await sender.close()

    asyncio.run(run())
    sent = fake.sent()
    assert len(sent) == 10
    assert sent[-1].at - sent[0].at < 0.8
