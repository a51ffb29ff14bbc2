"""With RAPPORT_REST_TOKEN set, the REST webhook answers only callers with that bearer token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness import Stack, http_json, start_stack

TOKEN = "rest-token-for-tests"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("rest-token"), {"RAPPORT_REST_TOKEN": TOKEN})
    yield running
    running.stop()


@pytest.mark.parametrize("header", [None, "Bearer wrong", TOKEN, f"Basic {TOKEN}"])
def test_callers_without_the_token_get_401_and_reach_no_conversation(
    stack: Stack, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    status, _ = http_json("POST", url, {"sender": "s-1", "message": "hi"}, headers=headers)
    assert status == 401
    assert stack.export() == []


def test_the_token_lets_a_conversation_through(stack: Stack) -> None:
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    status, replies = http_json("POST", url, {"sender": "s-2", "message": "hi"}, headers=headers)
    assert status == 200
    assert replies[0]["text"].startswith("Hi! I'm Calmly's assistant, a bot.")
