"""Rate limits: per conversation, per source address, per connection attempt; windows slide."""

from __future__ import annotations

import time

import pytest

from bot.channels.limits import RateLimits


def limits(conversation: str = "3/minute", source: str = "5/minute") -> RateLimits:
    return RateLimits(per_conversation=conversation, per_source=source, connections="2/minute")


def test_a_conversation_gets_its_limit_and_no_more() -> None:
    rate = limits()
    assert [rate.message(channel="rest", conversation="a") for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert rate.message(channel="rest", conversation="b")  # another conversation is not held up
    assert rate.message(channel="telegram", conversation="a")  # nor the same id elsewhere


def test_a_source_is_limited_across_fresh_conversations() -> None:
    rate = limits(source="5/minute")
    allowed = [
        rate.message(channel="socketio", conversation=f"fresh-{n}", source="one-address")
        for n in range(7)
    ]
    assert allowed == [True] * 5 + [False] * 2
    assert rate.message(channel="socketio", conversation="x", source="another-address")


def test_connection_attempts_are_limited_per_source() -> None:
    rate = limits()
    assert [rate.connection(source="s") for _ in range(3)] == [True, True, False]
    assert rate.connection(source="t")


def test_every_window_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    rate = RateLimits(
        per_conversation="2/second;3/minute", per_source="100/minute", connections="1/second"
    )
    hits = []
    for _ in range(4):
        hits.append(rate.message(channel="rest", conversation="a"))
        now[0] += 1.5
    assert hits == [True, True, True, False]  # the minute window holds after 3
    now[0] += 61
    assert rate.message(channel="rest", conversation="a")
