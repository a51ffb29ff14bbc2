"""The inbound guard: empty, oversized and `/intent` command messages never reach NLU."""

from __future__ import annotations

import pytest

from bot.channels.guard import Verdict, check

LIMIT = 2000


@pytest.mark.parametrize(
    "text",
    [
        "/affirm",
        '/inform{"channel": "email"}',
        "  /affirm",
        "\u200b/affirm",
        "\ufeff/inform{}",
        "\u202e/affirm",
        "\uff0faffirm",
        "\n\t/opt_out",
        "/",
    ],
)
def test_typed_intent_commands_are_refused(text: str) -> None:
    assert check(text, limit=LIMIT).reply == "command_blocked"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u200b\u200b", None, 42, {"x": 1}])
def test_empty_or_non_text_gets_the_empty_answer(text: object) -> None:
    assert check(text, limit=LIMIT).reply == "empty"


def test_oversized_messages_are_refused_with_their_length() -> None:
    verdict = check("a" * (LIMIT + 1), limit=LIMIT)
    assert verdict.reply == "too_long" and verdict.length == LIMIT + 1
    assert check("a" * LIMIT, limit=LIMIT).reply is None


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("email please / sms", "email please / sms"),
        ("  🙂  ", "🙂"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("a\x00b", "ab"),
        ("half/half", "half/half"),
    ],
)
def test_ordinary_text_passes_trimmed(text: str, passed: str) -> None:
    verdict = check(text, limit=LIMIT)
    assert verdict.reply is None and verdict.text == passed


@pytest.mark.parametrize("payload", ["/greet", "  /greet ", "/get_started"])
def test_the_widgets_opening_payload_greets(payload: str) -> None:
    configured = payload.strip()
    assert check(payload, limit=LIMIT, init_payload=configured) == Verdict(text="/greet")


@pytest.mark.parametrize(
    "text",
    [
        '/greet{"channel": "email"}',
        "/greet/affirm",
        "/affirm",
        "/Greet",
        "\u200b/greet",
        "\uff0fgreet",
        "/greet please",
    ],
)
def test_nothing_but_the_exact_payload_gets_through(text: str) -> None:
    assert check(text, limit=LIMIT, init_payload="/greet").reply == "command_blocked"


def test_without_a_payload_even_greet_is_a_command() -> None:
    assert check("/greet", limit=LIMIT).reply == "command_blocked"
