"""The REST webhook answers only callers with RAPPORT_REST_TOKEN, and nobody without one set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness import Stack, http_json, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("rest-token"))
    yield running
    running.stop()


@pytest.mark.parametrize("header", [None, "Bearer wrong", "TOKEN", "Basic TOKEN", "Bearer "])
def test_callers_without_the_token_get_401_and_reach_no_conversation(
    stack: Stack, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header.replace("TOKEN", stack.rest_token)}
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    status, body = http_json("POST", url, {"sender": "s-1", "message": "hi"}, headers=headers)
    assert status == 401 and body == {"error": "a valid bearer token is required"}
    assert stack.export() == []


def test_the_token_lets_a_conversation_through(stack: Stack) -> None:
    status, replies = stack.rest({"sender": "s-2", "message": "hi"})
    assert status == 200
    assert replies[0]["text"].startswith("Hi! I'm Calmly's assistant, a bot.")
