"""Web chat sessions against the real stack, with python-socketio's client (long polling).

The server issues every session id with a signed token; a valid token resumes the
session, and a forged or tampered token, one signed with another secret, or a bare
session id (someone else's) gets a fresh, different session that can neither read nor
post into the other one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
import socketio

from bot.adapters.chat_sessions import SessionTokens
from tests.harness import Stack, start_stack

WAIT = 60.0
"""The first answer can take a while: Rasa loads the model on the first message."""
CONSENT = "may I ask you a couple of quick questions?"
FIRST_QUESTION = "Here's the first one."
OPTED_OUT = "Done: I've stopped asking questions"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("sessions"))
    yield running
    running.stop()


class Chat:
    """One browser tab's socket, as the page uses it."""

    def __init__(self, stack: Stack) -> None:
        self.client = socketio.SimpleClient()
        self.client.connect(stack.rasa_url, transports=["polling"], wait_timeout=30)
        self.events: list[tuple[str, Any]] = []
        self.session_id = ""

    def _wait(self, found: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not found():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} in {timeout}s; got {self.events}")
            try:
                event, *data = self.client.receive(timeout=left)
            except socketio.exceptions.TimeoutError:
                continue
            self.events.append((event, data[0] if data else None))

    def confirm(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send a `session_request`; the `session_confirm` it gets."""
        before = len(self.events)
        self.client.emit("session_request", request)
        confirmed = lambda: [d for e, d in self.events[before:] if e == "session_confirm"]  # noqa: E731
        self._wait(lambda: bool(confirmed()), "session_confirm", 30)
        (confirmation,) = confirmed()
        assert isinstance(confirmation, dict), confirmation
        self.session_id = confirmation["session_id"]
        return confirmation

    def uttered(self, since: int = 0) -> list[str]:
        return [str(d.get("text", "")) for e, d in self.events[since:] if e == "bot_uttered"]

    def say(self, event: str, data: dict[str, Any], expect: str) -> list[str]:
        """Emit `event`; the bot's messages since, once one containing `expect` arrived."""
        before = len(self.events)
        self.client.emit(event, data)
        self._wait(lambda: any(expect in t for t in self.uttered(before)), repr(expect))
        return self.uttered(before)

    def quiet_for(self, seconds: float) -> list[str]:
        """Everything the bot says to this socket in the next `seconds`."""
        before = len(self.events)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                event, *data = self.client.receive(timeout=left)
            except socketio.exceptions.TimeoutError:
                break
            self.events.append((event, data[0] if data else None))
        return self.uttered(before)

    def close(self) -> None:
        """Hang up as a closed tab does. (Engine.IO's CLOSE packet is sent; not waiting for
        the pending long-poll to return saves the ping interval, 25 s, per socket.)"""
        if self.client.connected:
            self.client.client.eio.disconnect(abort=True)
            self.client.connected = False


@pytest.fixture
def chats(stack: Stack) -> Iterator[Callable[[], Chat]]:
    opened: list[Chat] = []

    def open_chat() -> Chat:
        opened.append(Chat(stack))
        return opened[-1]

    yield open_chat
    for chat in opened:
        chat.close()


def test_the_server_issues_the_session_and_a_token_resumes_it(
    chats: Callable[[], Chat],
) -> None:
    first = chats()
    issued = first.confirm({})
    session_id, token = issued["session_id"], issued["session_token"]
    assert len(session_id) == 32 and isinstance(token, str) and session_id in token
    first.say("rapport_start", {"session_id": session_id}, CONSENT)
    first.close()

    again = chats()  # a reload: a new socket presenting the stored token
    resumed = again.confirm({"session_token": token})

    assert resumed["session_id"] == session_id
    assert resumed["session_token"].startswith(session_id + ".")  # renewed (second resolution)
    said = again.say("user_uttered", {"session_id": session_id, "message": "Yes, go ahead"}, "")
    assert any(FIRST_QUESTION in text for text in said), said  # the same conversation


def _forgeries(session_id: str, token: str) -> dict[str, dict[str, Any]]:
    value, timestamp, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return {
        "bare session id as token": {"session_token": session_id},
        "bare session id, the old way": {"session_id": session_id},
        "tampered signature": {"session_token": f"{value}.{timestamp}.{flipped}"},
        "signed with another secret": {
            "session_token": SessionTokens("another secret, " * 4).issue(session_id)
        },
        "not a string": {"session_token": {"session_id": session_id}},
    }


def test_a_forged_token_or_a_bare_id_gets_a_fresh_session_that_cannot_reach_the_other(
    stack: Stack, chats: Callable[[], Chat]
) -> None:
    owner = chats()
    issued = owner.confirm({})
    victim = issued["session_id"]
    owner.say("rapport_start", {"session_id": victim}, CONSENT)
    owner.say("user_uttered", {"session_id": victim, "message": "Yes, go ahead"}, FIRST_QUESTION)

    intruders: list[Chat] = []
    for name, request in _forgeries(victim, issued["session_token"]).items():
        intruder = chats()
        fresh = intruder.confirm(request)
        assert fresh["session_id"] != victim, name
        assert len(fresh["session_id"]) == 32, name
        assert fresh["session_token"].startswith(fresh["session_id"] + "."), name
        # Posting into the other session is ignored...
        intruder.client.emit("user_uttered", {"session_id": victim, "message": "stop"})
        intruder.client.emit("rapport_start", {"session_id": victim})
        intruders.append(intruder)
    # ...(a barrier: each socket's events are handled in order, and its own session answers)
    for intruder in intruders:
        intruder.say("rapport_start", {"session_id": intruder.session_id}, CONSENT)

    # ...and the owner's conversation goes on untouched, read by the owner only.
    said = owner.say("user_uttered", {"session_id": victim, "message": "email"}, "")
    assert not any(OPTED_OUT in text for text in said), said
    for intruder in intruders:
        heard = intruder.uttered() + intruder.quiet_for(1)
        assert not any("email" in text.lower() for text in heard), heard
        assert not any(FIRST_QUESTION in text for text in heard), heard
    people = [
        p
        for p in stack.export()
        if {"channel": "socketio", "external_id": victim} in p["identities"]
    ]
    assert len(people) == 1
    assert people[0]["consents"]["current"]["profiling"]["status"] == "granted"
