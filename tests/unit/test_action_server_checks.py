"""The action server's pure checks: the shared secret, bounded inflation, the call's shape."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from bot.actionserver import call_problem, inflate, secret_verdict

SECRET = "s" * 40


def a_call(**changes: Any) -> dict[str, Any]:
    tracker = {"sender_id": "rest:a", "slots": {}, "events": [], "latest_message": None}
    return {"next_action": "action_what_we_know", "tracker": tracker, "domain": {}, **changes}


def test_the_secret_is_required_and_compared_exactly() -> None:
    assert secret_verdict(None, SECRET) == 401
    assert secret_verdict("", SECRET) == 401
    assert secret_verdict(SECRET[:-1], SECRET) == 403
    assert secret_verdict(SECRET + " ", SECRET) == 403
    assert secret_verdict("\xe9" * 40, SECRET) == 403
    assert secret_verdict(SECRET, SECRET) is None


def test_inflation_stops_at_the_limit() -> None:
    assert inflate(zlib.compress(b"x" * 100), 100) == b"x" * 100
    assert inflate(zlib.compress(b"x" * 101), 100) is None
    assert inflate(b"not deflate", 100) is None
    assert inflate(zlib.compress(b"x" * 10)[:-3], 100) is None  # truncated


def test_a_call_as_rasa_sends_it_passes() -> None:
    assert call_problem(a_call()) is None
    assert call_problem({k: v for k, v in a_call().items() if k != "domain"}) is None


@pytest.mark.parametrize(
    "call",
    [
        [],
        None,
        "action_what_we_know",
        {"tracker": a_call()["tracker"]},
        a_call(next_action="fz-<script>"),
        a_call(next_action=5),
        a_call(tracker="x"),
        a_call(tracker={"slots": {}}),
        a_call(tracker={"sender_id": 3}),
        a_call(tracker={"sender_id": "a", "events": {}}),
        a_call(tracker={"sender_id": "a", "events": [1]}),
        a_call(tracker={"sender_id": "a", "slots": []}),
        a_call(tracker={"sender_id": "a", "paused": "no"}),
        a_call(domain=[]),
        a_call(version=3.6),
    ],
)
def test_anything_else_is_named_as_the_problem(call: Any) -> None:
    assert isinstance(call_problem(call), str)
