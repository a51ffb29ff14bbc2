"""Rasa's HTTP API (JWT only, 127.0.0.1, body limits), "forget me" clearing the chats of
every linked account, and `rapport retention`: with the real stack, trackers in memory
(as `make run`) and in Rasa's SQL tracker store."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import time
import uuid
from typing import Any, Callable, Iterator

import jwt
import pytest

from tests.harness import (
    ACTIONS_MAX_BODY,
    BIN,
    RASA_MAX_BODY,
    ROOT,
    Stack,
    free_port,
    http_json,
    start_stack,
)


@pytest.fixture(scope="module", params=["memory", "sql"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    trackers = str(request.param)
    running = start_stack(
        tmp_path_factory.mktemp(f"rasa-api-{trackers}"), sql_trackers=trackers == "sql"
    )
    yield running
    running.stop()


USED: list[str] = []  # every sender id and canary of this module: none may reach a log


def shopper() -> str:
    USED.append(f"shopper-{uuid.uuid4().hex[:10]}")
    return USED[-1]


def canary() -> str:
    USED.append(f"canary{uuid.uuid4().hex}")
    return USED[-1]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.25)


def sql_rows(stack: Stack) -> list[tuple[str, str]]:
    """(sender_id, event JSON) of every row in Rasa's SQL tracker store."""
    with sqlite3.connect(stack.workdir / "trackers.db") as conn:
        return [(str(s), str(d)) for s, d in conn.execute("SELECT sender_id, data FROM events")]


def is_sql(stack: Stack) -> bool:
    return (stack.workdir / "trackers.db").exists()


def people_with(stack: Stack, *senders: str) -> list[dict[str, Any]]:
    return [
        p
        for p in stack.export()
        if any({"channel": "rest", "external_id": s} in p["identities"] for s in senders)
    ]


# --- the API: JWT only, 127.0.0.1, body limits -----------------------------------------------


def token(secret: str, *, role: str = "admin", ttl: int = 60) -> str:
    now = int(time.time())
    payload = {"user": {"username": "someone", "role": role}, "iat": now, "exp": now + ttl}
    return jwt.encode(payload, secret, algorithm="HS256")


def test_the_api_needs_a_jwt_signed_with_the_secret(stack: Stack) -> None:
    url = f"{stack.rasa_url}/conversations/{shopper()}/tracker"

    def status(headers: dict[str, str] | None = None, query: str = "") -> int:
        return http_json("GET", url + query, headers=headers)[0]

    assert status() == 401
    wrong = token("another-secret-" + "x" * 40)
    assert status({"Authorization": f"Bearer {wrong}"}) == 401
    expired = token(stack.jwt_secret, ttl=-600)  # sanic-jwt allows 3 minutes of leeway
    assert status({"Authorization": f"Bearer {expired}"}) == 401
    assert status(query=f"?token={stack.jwt_secret}") == 401  # no static token any more
    assert status({"Authorization": f"Bearer {token(stack.jwt_secret)}"}) == 200
    assert status(stack.api_headers()) == 200  # Rapport's own client's token
    # Only the admin role reaches other people's conversations.
    assert status({"Authorization": f"Bearer {token(stack.jwt_secret, role='user')}"}) == 403


def non_loopback_ipv4() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    candidates = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))  # picks the default route; sends nothing
            candidates.add(str(probe.getsockname()[0]))
        except OSError:
            pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            candidates.add(str(info[4][0]))
    except OSError:
        pass
    usable = sorted(a for a in candidates if not a.startswith("127.") and a != "0.0.0.0")
    return usable[0] if usable else None


def test_rasa_actions_and_web_listen_on_loopback_only(stack: Stack) -> None:
    address = non_loopback_ipv4()
    if address is None:
        pytest.skip("LOUD SKIP: this machine has no non-loopback IPv4 address to probe from")
    for url in (stack.rasa_url, stack.actions_url, stack.web_url):
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as sock:  # sanity: it does listen on loopback
            sock.settimeout(5)
            sock.connect(("127.0.0.1", port))
        with pytest.raises(OSError), socket.socket() as sock:
            sock.settimeout(5)
            sock.connect((address, port))


def declared_length_status(url: str, method: str, length: int, headers: dict[str, str]) -> int:
    """The status a server answers to a request announcing a `length`-byte body.

    Only the headers are sent: a server enforcing its limit answers 413 from them, before
    reading any body (sending megabytes it would refuse only makes the test flaky).
    """
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *(f"{k}: {v}" for k, v in headers.items()),
        "",
        "",
    ]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode())
        answer = sock.recv(4096).decode("latin-1")
    match = re.match(r"HTTP/1\.[01] (\d{3})", answer)
    assert match, answer[:200]
    return int(match.group(1))


def test_request_bodies_over_the_limits_are_413(stack: Stack) -> None:
    events = f"{stack.rasa_url}/conversations/{shopper()}/tracker/events"
    headers = stack.api_headers()
    # A body of exactly the limit is accepted (an empty event list padded with spaces) ...
    at_limit = b"[" + b" " * (RASA_MAX_BODY - 2) + b"]"
    status, _ = http_json("PUT", events, raw=at_limit, headers=headers)
    assert status == 200
    # ... one byte more is not, on the API as on the webhooks.
    assert declared_length_status(events, "PUT", RASA_MAX_BODY + 1, headers) == 413
    webhook = f"{stack.rasa_url}/webhooks/rest/webhook"
    assert declared_length_status(webhook, "POST", RASA_MAX_BODY + 1, {}) == 413
    # The action server takes whole trackers, so its limit is larger, but there is one:
    # Rasa (the one caller with the secret) gets 413, anyone else 401 before that.
    actions = f"{stack.actions_url}/webhook"
    rasa = {"X-Rapport-Action-Secret": stack.action_secret}
    assert declared_length_status(actions, "POST", ACTIONS_MAX_BODY + 1, rasa) == 413
    assert declared_length_status(actions, "POST", ACTIONS_MAX_BODY + 1, {}) == 401


def test_the_procfile_runs_rasa_as_the_tests_do() -> None:
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    rasa, actions = procfile["rasa"], procfile["actions"]
    assert f"SANIC_REQUEST_MAX_SIZE={RASA_MAX_BODY} " in rasa
    assert f"SANIC_REQUEST_MAX_SIZE={ACTIONS_MAX_BODY} " in actions
    assert "rapport actions" in actions  # the shared-secret action server, on 127.0.0.1
    assert all(line.startswith("umask 077 && ") for n, line in procfile.items() if n != "ready")
    assert "--enable-api --jwt-secret=" in rasa and "--jwt-method HS256" in rasa
    assert "--interface 127.0.0.1" in rasa and "--auth-token" not in rasa
    assert "${RAPPORT_RASA_JWT_SECRET:?" in rasa  # never an API without authentication
    assert procfile["retention"].endswith("rapport retention schedule")


# --- "forget me" clears the chats of every linked account ------------------------------------


def link(stack: Stack, first: str, second: str) -> None:
    stack.texts(first, "hi")
    stack.texts(first, "Yes, go ahead")
    stack.texts(first, "email please")
    issued = stack.texts(first, "link my accounts")
    code = issued[0].split("code: ")[1][:9]
    assert stack.texts(second, f"link {code}")[0].startswith("Done: your accounts are linked.")


def user_texts(tracker: dict[str, Any]) -> list[str]:
    return [str(e.get("text")) for e in tracker["events"] if e["event"] == "user"]


def test_forget_me_clears_the_trackers_of_every_linked_sender(stack: Stack) -> None:
    first, second, bystander = shopper(), shopper(), shopper()
    mark = canary()
    link(stack, first, second)
    stack.texts(first, f"my name is {mark} by the way")
    stack.texts(second, f"and over here I am {mark} too")
    stack.texts(bystander, "hello")
    for sender in (first, second):
        assert mark in json.dumps(stack.tracker(stack.rest_conversation(sender)))
    if is_sql(stack):  # Rasa really stores them in SQL (not a silent in-memory fallback)
        assert {s for s, d in sql_rows(stack) if mark in d} == {
            stack.rest_conversation(first),
            stack.rest_conversation(second),
        }

    assert stack.texts(first, "forget me")[0].startswith("I can delete everything")
    done = stack.texts(first, "Yes, delete everything")
    assert done[0].startswith("Done: everything I knew about you is deleted")

    def cleared() -> bool:
        trackers = [stack.tracker(stack.rest_conversation(sender)) for sender in (first, second)]
        return all(mark not in json.dumps(t) and not user_texts(t) for t in trackers)

    wait_until(cleared, "both linked conversations cleared in Rasa")
    assert people_with(stack, first, second) == []
    assert user_texts(stack.tracker(stack.rest_conversation(bystander))) == [
        "hello"
    ]  # nobody else's chat is touched
    if is_sql(stack):
        rows = sql_rows(stack)
        assert [d for _, d in rows if mark in d] == []
        assert {s for s, _ in rows} >= {stack.rest_conversation(bystander)}
        # Reading a cleared conversation back may start a fresh, empty one; nothing typed.
        chats = (stack.rest_conversation(first), stack.rest_conversation(second))
        assert not [d for s, d in rows if s in chats and '"event": "user"' in d]
    again = stack.texts(first, "hello")  # a stranger again, in a fresh, working conversation
    assert again[0].startswith("Hi! I'm Calmly's assistant, a bot.")
    assert "may I ask you a couple of quick questions" in again[-1]
    assert user_texts(stack.tracker(stack.rest_conversation(first))) == ["hello"]


# --- retention --------------------------------------------------------------------------------


def test_retention_deletes_old_transcript_events_and_keeps_the_profile(stack: Stack) -> None:
    me = shopper()
    old, new = canary(), canary()
    stack.texts(me, "hi")
    stack.texts(me, "Yes, go ahead")
    stack.texts(me, "email please")
    stack.texts(me, f"old news: {old}")
    cutoff = time.time() + 0.5
    # The CLI computes its cutoff from --days when it has started, seconds later: the
    # new message must be newer than that too, so time has to pass here.
    time.sleep(6)
    stack.texts(me, f"new news: {new}")
    if is_sql(stack):
        assert any(old in d for s, d in sql_rows(stack) if s == stack.rest_conversation(me))

    days = (time.time() - cutoff) / 86400
    output = stack.rapport("retention", "run", "--days", repr(days))
    assert re.search(r"^store: deleted \d+ expired purchase flags", output, re.M), output
    assert re.search(r"deleted [1-9]\d* events from [1-9]\d* of \d+ conversations$", output, re.M)
    assert me not in output and old not in output  # counts only

    events = stack.tracker(stack.rest_conversation(me))["events"]
    assert old not in json.dumps(events) and new in json.dumps(events)
    assert all(e["timestamp"] >= cutoff for e in events)
    assert user_texts(stack.tracker(stack.rest_conversation(me)))[0] == f"new news: {new}"
    if is_sql(stack):
        mine = [d for s, d in sql_rows(stack) if s == stack.rest_conversation(me)]
        assert not [d for d in mine if old in d] and [d for d in mine if new in d]
    [person] = people_with(stack, me)
    assert person["attributes"]["contact_channels"]["value"]["selected"] == ["email"]
    assert person["consents"]["current"]["profiling"]["status"] == "granted"
    assert stack.texts(me, "hello")  # the trimmed conversation still works

    # Again: nothing older is left, so nothing more is deleted from this conversation.
    kept = stack.tracker(stack.rest_conversation(me))["events"]
    again = stack.rapport("retention", "run", "--days", repr((time.time() - cutoff) / 86400))
    assert re.search(r"deleted \d+ events from \d+ of \d+ conversations$", again, re.M), again
    assert stack.tracker(stack.rest_conversation(me))["events"] == kept


@pytest.mark.timeout(120)
def test_the_retention_schedule_runs_once_at_start(stack: Stack) -> None:
    process = subprocess.Popen(
        [str(BIN / "rapport"), "retention", "schedule", "--every-hours", "24"],
        env=stack.env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert lines[0].startswith("retention: now, then every 24 hours")
    assert lines[1].startswith("store: deleted ")
    assert lines[2].startswith("transcripts older than 90 days: deleted ")


def test_retention_without_rasa_says_so_and_fails(stack: Stack) -> None:
    env = {**stack.env, "RAPPORT_RASA_URL": f"http://127.0.0.1:{free_port()}"}
    done = Stack(
        stack.workdir, env, "", "", "", stack.jwt_secret, stack.rest_token, stack.action_secret
    ).rapport_run("retention", "run")
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert done.stdout.startswith("store: deleted ")
    assert "transcripts: skipped" in done.stderr and "not reachable" in done.stderr


def test_retention_refuses_a_negative_number_of_days(stack: Stack) -> None:
    done = stack.rapport_run("retention", "run", "--days", "-1")
    assert done.returncode == 2 and "--days" in done.stderr


def test_no_secret_sender_id_or_text_of_these_tests_reached_a_log(stack: Stack) -> None:
    logs = stack.logs()
    assert "Could not clear" not in logs  # every clearing went through
    assert stack.jwt_secret not in logs
    assert [used for used in USED if used in logs] == []
