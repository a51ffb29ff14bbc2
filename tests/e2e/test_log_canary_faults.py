"""Log canary, when things go wrong: hang-ups, refusals, failing platforms, a dead action server.

The companion of test_log_canary.py (which drives every channel's normal and refusal
paths). Here the same canaries go into the paths that only run when something fails:

- REST: clients that hang up before the answer (Sanic cancels the handler; Rasa's own
  REST channel logs the text then), calls without the token and from a foreign origin;
- the action server: calls without the secret and malformed calls with the secret,
  both carrying a tracker full of canaries;
- Telegram: the Bot API failing with 500 on the bot's answer;
- Socket.IO: a websocket dropped right after a message, without a goodbye;
- Rasa when the action server is gone (stopped at the end of the run).

Positive controls check that each of these paths logged what it logs, so a broken
capture cannot pass.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.canaries import Canaries, leaks
from tests.e2e.test_log_canary import SocketChat
from tests.fakes.telegram_api import FakeTelegramApi, text_update
from tests.harness import Stack, http_json, start_stack

TG_TOKEN, TG_SECRET = "456:FAULTS", "faults-telegram-secret"


@dataclass
class Run:
    logs: str
    canaries: Canaries
    secrets: dict[str, str]


def hang_up(stack: Stack, text: str, sender: str) -> None:
    """POST a REST message and close the connection before the answer comes."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    host, port = stack.rasa_url.split("//")[1].split(":")
    request = (
        f"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {stack.rest_token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request)


def drive_rest(stack: Stack, c: Canaries) -> None:
    for _ in range(3):
        hang_up(stack, c.pii_text("REST: hung-up text"), c.new("REST: hung-up sender"))
    stack.texts(c.new("REST: sender after hang-ups"), "hi")  # Rasa is still answering
    body = {"sender": c.new("REST: sender without token"), "message": c.pii_text("REST: text")}
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    assert http_json("POST", url, body)[0] == 401
    foreign = {**stack.rest_headers(), "Origin": f"https://{c.new('REST: origin')}.example"}
    assert http_json("POST", url, body, headers=foreign)[0] == 403


def made_up_call(c: Canaries, where: str) -> bytes:
    sender = c.new(f"{where}: sender")
    tracker = {
        "sender_id": sender,
        "slots": {"rp_pending": c.new(f"{where}: slot")},
        "latest_message": {"text": c.pii_text(f"{where}: text"), "intent": {"name": "greet"}},
        "events": [{"event": "user", "text": c.pii_text(f"{where}: event text")}],
        "latest_input_channel": "rest",
    }
    call = {"next_action": "action_what_we_know", "sender_id": sender, "tracker": tracker}
    return json.dumps({**call, "domain": {"slots": "not a dict"}, "version": "3.6.2"}).encode()


def drive_action_server(stack: Stack, c: Canaries) -> None:
    webhook = f"{stack.actions_url}/webhook"
    plain = {"Content-Type": "text/plain"}
    assert (
        http_json("POST", webhook, raw=made_up_call(c, "actions, no secret"), headers=plain)[0]
        == 401
    )
    secret = {"X-Rapport-Action-Secret": stack.action_secret}
    broken = made_up_call(c, "actions, malformed")[:-2]  # not JSON any more
    assert http_json("POST", webhook, raw=broken, headers=secret)[0] == 400
    odd = json.loads(made_up_call(c, "actions, odd tracker"))
    odd["tracker"]["events"] = c.new("actions: events not a list")
    status, body = http_json("POST", webhook, raw=json.dumps(odd).encode(), headers=secret)
    assert status >= 400 and c.values.keys().isdisjoint(json.dumps(body).split('"'))


def drive_telegram(stack: Stack, fake: FakeTelegramApi, c: Canaries) -> None:
    user = c.number("Telegram: user id")
    fake.reject_next_sends(2, code=500, description="Internal Server Error")
    url = f"{stack.rasa_url}/webhooks/telegram/webhook"
    update = text_update(user, c.pii_text("Telegram: text answered into a 500"))
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    assert http_json("POST", url, update, headers=headers)[0] == 200
    fake.wait_for(lambda: [s for s in fake.calls("sendMessage") if s.status == 500])


async def drive_socketio(stack: Stack, c: Canaries) -> None:
    chat = await SocketChat.open(stack.rasa_url)
    confirmed = await chat.start_session({})
    session = c.add(confirmed["session_id"], "Socket.IO: session id")
    await chat.emit("user_uttered", {"session_id": session, "message": c.pii_text("Socket.IO")})
    await chat._ws.close()  # dropped, no "41" goodbye
    await asyncio.sleep(0)


def drive_without_actions(stack: Stack, c: Canaries) -> None:
    actions = stack.processes[0]  # started first by the harness
    os.killpg(actions.pid, signal.SIGTERM)
    actions.wait(timeout=20)
    status, _ = stack.rest({"sender": c.new("REST: sender, no actions"), "message": "hi"})
    assert status == 200
    stack.rest({"sender": c.new("REST: sender, no actions 2"), "message": c.pii_text("REST")})


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    canaries = Canaries()
    with FakeTelegramApi(TG_TOKEN) as telegram:
        stack = start_stack(
            tmp_path_factory.mktemp("canary-faults"),
            extra_env={
                "PYTHONUNBUFFERED": "1",
                "TELEGRAM_BOT_TOKEN": TG_TOKEN,
                "TELEGRAM_SECRET_TOKEN": TG_SECRET,
                "TELEGRAM_BASE_URL": telegram.base_url,
            },
        )
        try:
            drive_rest(stack, canaries)
            drive_action_server(stack, canaries)
            drive_telegram(stack, telegram, canaries)
            asyncio.run(drive_socketio(stack, canaries))
            # The hang-ups must have been noticed (and logged) before the actions stop.
            deadline = time.monotonic() + 60
            while "REST message processing cancelled" not in stack.logs():
                assert time.monotonic() < deadline, "the REST hang-ups were never noticed"
                time.sleep(0.2)
            drive_without_actions(stack, canaries)
        finally:
            stack.stop()
    watched = {
        "REST webhook token": stack.rest_token,
        "action server secret": stack.action_secret,
        "Rasa API JWT secret": stack.jwt_secret,
        "Telegram webhook secret": TG_SECRET,
    }
    yield Run(stack.logs(), canaries, {v: k for k, v in watched.items()})


def test_every_failure_path_ran_and_logged(run: Run) -> None:
    for line in [
        "REST message processing cancelled (client gone or timed out)",
        "action server request without a valid secret refused (401)",
        "Telegram delivery failed: ",
        "Couldn't connect to the server",  # Rasa, with the action server gone
    ]:
        assert line in run.logs, line


def test_no_canary_appears_in_any_log_when_things_fail(run: Run) -> None:
    found = leaks(run.logs, run.canaries.values)
    assert not found, "\n".join(found)


def test_no_secret_appears_in_any_log_when_things_fail(run: Run) -> None:
    found = leaks(run.logs, run.secrets)
    assert not found, "\n".join(found)
