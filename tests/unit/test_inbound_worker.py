"""The inbound worker Telegram and Slack share: order per conversation, duplicates, failures, close.

Every test runs the real worker on a real asyncio loop; duplicates are checked against
the in-memory profile store (`receipts`) or a plain function, and the handlers are
plain coroutines recording what they saw.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

import pytest

from bot.channels.inbound import FirstDelivery, InboundWorker, WorkerLogs, receipts
from bot.store.memory import MemoryStore

LOGGER = "tests.inbound_worker"
KEY = "a-pseudonym-key-of-at-least-32-characters"
SHOPPER_TEXT = "my secret is quintessential marmalade"


def never_seen(_key: str) -> bool:
    return True


def worker_for(
    handle: Callable[[str], Awaitable[None]], first_delivery: FirstDelivery = never_seen
) -> InboundWorker[str]:
    logs = WorkerLogs(
        logger=logging.getLogger(LOGGER),
        duplicate="test delivery already handled",
        failure_details="test failure details",
    )
    return InboundWorker(handle, first_delivery=first_delivery, logs=logs)


def submit(worker: InboundWorker[str], item: str, conversation: str, *keys: str) -> None:
    worker.submit(item, conversation=conversation, keys=keys or (item,), what="test message")


# --- order ---------------------------------------------------------------------------


def test_messages_of_one_conversation_run_one_at_a_time_in_arrival_order() -> None:
    events: list[tuple[str, str]] = []
    running = {"now": 0, "most": 0}

    async def handle(item: str) -> None:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        events.append(("start", item))
        await asyncio.sleep(0.05 - 0.01 * int(item))  # later messages are quicker
        events.append(("end", item))
        running["now"] -= 1

    async def run() -> None:
        worker = worker_for(handle)
        for item in "01234":
            submit(worker, item, "chat-1")
        await worker.close(5.0)
        assert worker.running == 0

    asyncio.run(run())
    assert running["most"] == 1
    assert events == [(step, item) for item in "01234" for step in ("start", "end")]


def test_different_conversations_run_side_by_side() -> None:
    seen: dict[str, bool] = {}

    async def run() -> None:
        second_started = asyncio.Event()

        async def handle(item: str) -> None:
            if item == "second":
                second_started.set()
                return
            # The first message finishes only once the other conversation's has started.
            try:
                await asyncio.wait_for(second_started.wait(), timeout=2.0)
                seen["first saw second"] = True
            except asyncio.TimeoutError:
                seen["first saw second"] = False

        worker = worker_for(handle)
        submit(worker, "first", "chat-1")
        submit(worker, "second", "chat-2")
        await worker.close(5.0)

    asyncio.run(run())
    assert seen == {"first saw second": True}


# --- duplicates ----------------------------------------------------------------------


def test_a_redelivered_update_is_answered_once_also_after_a_restart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore()
    handled: list[str] = []

    async def handle(item: str) -> None:
        handled.append(item)

    async def deliver(*items: tuple[str, str]) -> None:
        worker = worker_for(handle, receipts(store, channel="telegram", secret=KEY))
        for item, conversation in items:
            submit(worker, item, conversation, "update:7")
        await worker.close(5.0)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        asyncio.run(deliver(("first", "chat-1"), ("again", "chat-1"), ("other", "chat-2")))
        asyncio.run(deliver(("after a restart", "chat-1")))  # a new worker, the same store

    assert handled == ["first"]
    duplicates = [r for r in caplog.records if r.getMessage() == "test delivery already handled"]
    assert len(duplicates) == 3 and {r.levelno for r in duplicates} == {logging.INFO}
    # Keys name chats and users: the store keeps their pseudonyms only.
    assert [channel for channel, _ in store.data.receipts] == ["telegram"]
    assert "update:7" not in str(store.data.receipts)


def test_a_message_seen_under_any_of_its_keys_is_answered_once() -> None:
    store = MemoryStore()
    handled: list[str] = []

    async def handle(item: str) -> None:
        handled.append(item)

    async def run() -> None:
        worker = worker_for(handle, receipts(store, channel="slack", secret=KEY))
        # A DM delivered as `message.im` and as `app_mention`: two events, one message.
        submit(worker, "message.im", "U1", "event:Ev1", "msg:D1:100.1")
        submit(worker, "app_mention", "U1", "event:Ev2", "msg:D1:100.1")
        submit(worker, "retry of Ev1", "U1", "event:Ev1", "msg:D1:100.1")
        submit(worker, "next message", "U1", "event:Ev3", "msg:D1:100.2")
        await worker.close(5.0)

    asyncio.run(run())
    assert handled == ["message.im", "next message"]


# --- failures ------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["handler", "duplicate check"])
def test_a_failure_is_logged_without_its_text_and_the_next_message_runs(
    caplog: pytest.LogCaptureFixture, failing: str
) -> None:
    handled: list[str] = []

    def first_delivery(key: str) -> bool:
        if failing == "duplicate check" and key == "boom":
            raise RuntimeError(f"could not record {SHOPPER_TEXT}")
        return True

    async def handle(item: str) -> None:
        if item == "boom":
            raise ValueError(f"the shopper wrote {SHOPPER_TEXT}")
        handled.append(item)

    async def run() -> None:
        worker = worker_for(handle, first_delivery)
        submit(worker, "boom", "chat-1")
        submit(worker, "next", "chat-1")
        await worker.close(5.0)

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        asyncio.run(run())

    assert handled == ["next"]
    error = "ValueError" if failing == "handler" else "RuntimeError"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [f"test message failed: {error}"]
    assert errors[0].exc_info is None
    visible = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not any(SHOPPER_TEXT in line for line in visible)
    [details] = [r for r in caplog.records if r.getMessage() == "test failure details"]
    assert details.levelno == logging.DEBUG and details.exc_info is not None


# --- shutdown ------------------------------------------------------------------------


def test_close_waits_for_running_deliveries_to_finish() -> None:
    finished: list[str] = []

    async def handle(item: str) -> None:
        await asyncio.sleep(0.2)
        finished.append(item)

    async def run() -> float:
        worker = worker_for(handle)
        submit(worker, "one", "chat-1")
        submit(worker, "two", "chat-2")
        started = time.monotonic()
        await worker.close(5.0)
        return time.monotonic() - started

    took = asyncio.run(run())
    assert sorted(finished) == ["one", "two"]
    assert took < 2.0


def test_close_returns_after_the_grace_period_when_a_delivery_hangs() -> None:
    async def handle(item: str) -> None:
        await asyncio.Event().wait()  # never set

    async def run() -> tuple[float, int]:
        worker = worker_for(handle)
        submit(worker, "stuck", "chat-1")
        await asyncio.sleep(0)
        started = time.monotonic()
        await asyncio.wait_for(worker.close(0.3), timeout=3.0)
        return time.monotonic() - started, worker.running

    took, still_running = asyncio.run(run())
    assert 0.25 <= took < 2.0
    assert still_running == 1


def test_close_with_nothing_running_returns_at_once() -> None:
    async def handle(item: str) -> None:
        raise AssertionError("nothing was submitted")

    async def run() -> float:
        started = time.monotonic()
        await worker_for(handle).close(5.0)
        return time.monotonic() - started

    assert asyncio.run(run()) < 0.5
