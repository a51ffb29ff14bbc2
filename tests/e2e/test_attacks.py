"""An attacker's read of the running service, tried for real (docs/security.md, "Attacks").

One stack for the module, as `make run` runs it (real Rasa, the shared-secret action
server, the web app), with Telegram and Slack against local fakes, Rasa's trackers in
SQLite (so erasure can be checked row by row), its own var/ directory, and the
production rate limits. Each test is one attack from the hardening issue and fails on
the code before it. Tests that use up a budget (wrong link codes from this address,
connections, messages) run last.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import stat
import subprocess
import time
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.customer import vouch
from tests.e2e.chats import TelegramShopper
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.telegram_api import FakeTelegramApi
from tests.harness import BIN, ROOT, Stack, http_json, start_stack

TG_TOKEN, TG_SECRET = "123:ATTACKS", "attacks-telegram-secret"
SHOP_SECRET = "shop-secret-for-the-attack-suite-0123456789"
CONSENT = "To make our messages fit you better, may I ask you"
NOTHING_KNOWN = "I don't know anything about you yet, apart from this chat."


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(TG_TOKEN) as api:
        yield api


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlackApi]:
    api = FakeSlackApi(token="xoxb-attacks").start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, telegram: FakeTelegramApi, slack: FakeSlackApi
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("attacks")
    running = start_stack(
        workdir,
        extra_env={
            "RAPPORT_VAR_DIR": str(workdir / "var"),
            "TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "TELEGRAM_SECRET_TOKEN": TG_SECRET,
            "TELEGRAM_BASE_URL": telegram.base_url,
            "SLACK_BOT_TOKEN": "xoxb-attacks",
            "SLACK_SIGNING_SECRET": "attacks-slack-signing-secret",
            "SLACK_BASE_URL": f"{slack.url}/api/",
            "RAPPORT_SHOP_SECRET": SHOP_SECRET,
            # The production defaults, not the harness's test-speed ones.
            "RAPPORT_MESSAGE_RATE": "20/minute;200/hour",
            "RAPPORT_SOURCE_RATE": "120/minute",
            "RAPPORT_CONNECTION_RATE": "30/minute",
        },
        sql_trackers=True,
    )
    yield running
    running.stop()


def rest_sender() -> str:
    return f"attacker-{uuid.uuid4().hex[:10]}"


def victim_on_telegram(stack: Stack, telegram: FakeTelegramApi) -> TelegramShopper:
    """A Telegram shopper who consented and said "WhatsApp" (what attackers want to read)."""
    victim = TelegramShopper(stack, telegram, TG_SECRET)
    victim.say("/start", CONSENT)
    victim.press("Yes, go ahead", "How would you like to hear from us?")
    assert victim.say("whatsapp please", "Got it")[0] == "Got it: WhatsApp."
    return victim


def link_code_of(shopper: TelegramShopper) -> str:
    issued = shopper.say("link my accounts", "Here's your one-time code")
    return issued[-1].split("code: ")[1][:9]


def knows(stack: Stack, sender: str) -> str:
    return " ".join(stack.texts(sender, "what do you know about me?"))


# --- 1. link codes -------------------------------------------------------------------------


def test_a_code_typed_alone_in_a_brand_new_chat_links_nothing(
    stack: Stack, telegram: FakeTelegramApi
) -> None:
    victim = victim_on_telegram(stack, telegram)
    code = link_code_of(victim)
    attacker = rest_sender()
    assert stack.texts(attacker, code)[0].startswith("If that's a link code")
    assert "WhatsApp" not in knows(stack, attacker)


def test_a_used_code_is_reported_to_its_issuer_who_undoes_the_link(
    stack: Stack, telegram: FakeTelegramApi
) -> None:
    victim = victim_on_telegram(stack, telegram)
    code = link_code_of(victim)
    attacker = rest_sender()
    assert stack.texts(attacker, f"link {code}")[0].startswith("Done: your accounts are linked")
    notice = victim.wait_for_text("Your link code was just used")
    assert "Was that you?" in notice
    undone = victim.press("No, undo it", "Undone")
    assert undone[0].startswith("Undone: that web conversation is no longer linked to you")
    assert "WhatsApp" not in knows(stack, attacker)
    assert "WhatsApp" in " ".join(victim.say("what do you know about me?", "Here's everything"))


# --- 2. one browser, two customers (the browser half: tests/browser) --------------------


def test_a_rest_chat_of_one_customer_is_refused_for_another(stack: Stack) -> None:
    chat = rest_sender()
    first, second = f"cust-{uuid.uuid4().hex[:6]}", f"cust-{uuid.uuid4().hex[:6]}"

    def say(text: str, customer: str) -> tuple[int, Any]:
        metadata = {"customer": vouch(customer, SHOP_SECRET)}
        return stack.rest({"sender": chat, "message": text, "metadata": metadata})

    assert say("hi", first)[0] == 200
    assert say("Yes, go ahead", first)[0] == 200
    assert say("sms please", first)[0] == 200
    status, body = say("what do you know about me?", second)
    assert status == 409 and "another customer" in body["error"]
    people = stack.export()
    [owner] = [p for p in people if {"channel": "shop", "external_id": first} in p["identities"]]
    assert {"channel": "rest", "external_id": chat} in owner["identities"]
    assert not [p for p in people if {"channel": "shop", "external_id": second} in p["identities"]]


# --- 3. shop signatures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "joined"), [(-5, False), (24 * 60, False), (90, False), (30, True)]
)
def test_shop_signatures_expire_and_cannot_be_long_lived(
    stack: Stack, minutes: int, joined: bool
) -> None:
    chat, customer = rest_sender(), f"cust-{uuid.uuid4().hex[:6]}"
    metadata = {"customer": vouch(customer, SHOP_SECRET, minutes=minutes)}
    status, _ = stack.rest({"sender": chat, "message": "hi", "metadata": metadata})
    assert status == 200
    shop = {"channel": "shop", "external_id": customer}
    assert any(shop in p["identities"] for p in stack.export()) is joined


def test_a_short_shop_secret_stops_every_process_from_starting(stack: Stack) -> None:
    env = {**stack.env, "RAPPORT_SHOP_SECRET": "too-short"}
    for command in (["actions"], ["web"], ["db", "upgrade"]):
        done = subprocess.run(
            [str(BIN / "rapport"), *command],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, command
        assert "RAPPORT_SHOP_SECRET must be at least 32 characters" in done.stderr


# --- 4. the action server ------------------------------------------------------------------


def made_up_call(sender: str) -> bytes:
    tracker = {
        "sender_id": sender,
        "slots": {},
        "latest_message": {"text": "what do you know about me?", "intent": {"name": "x"}},
        "events": [{"event": "user", "text": "what do you know?", "input_channel": "telegram"}],
        "latest_input_channel": "telegram",
    }
    call = {"next_action": "action_what_we_know", "sender_id": sender, "tracker": tracker}
    return json.dumps({**call, "domain": {}, "version": "3.6.2"}).encode()


def test_the_action_server_answers_rasa_only(stack: Stack, telegram: FakeTelegramApi) -> None:
    victim = victim_on_telegram(stack, telegram)
    webhook = f"{stack.actions_url}/webhook"
    blind = {"Content-Type": "text/plain"}  # what a page can send without a preflight
    status, body = http_json("POST", webhook, raw=made_up_call(str(victim.user)), headers=blind)
    assert status == 401 and "WhatsApp" not in json.dumps(body)
    forged = {"X-Rapport-Action-Secret": "x" * 64}
    assert http_json("POST", webhook, raw=made_up_call(str(victim.user)), headers=forged)[0] == 403
    assert http_json("GET", f"{stack.actions_url}/actions")[0] == 401
    assert http_json("GET", f"{stack.actions_url}/health")[0] == 200  # stays open
    # Positive control: the very same call with Rasa's secret does reveal the answer.
    rasa = {"X-Rapport-Action-Secret": stack.action_secret}
    status, body = http_json("POST", webhook, raw=made_up_call(str(victim.user)), headers=rasa)
    assert status == 200 and "WhatsApp" in json.dumps(body), (status, body)


def test_compressed_bodies_are_bounded_or_refused(stack: Stack) -> None:
    secret = {"X-Rapport-Action-Secret": stack.action_secret}
    bomb = zlib.compress(b"[" + b" " * (64 * 1024 * 1024) + b"]")  # 64 MiB from 64 KiB
    deflate = {**secret, "Content-Encoding": "deflate"}
    status, _ = http_json("POST", f"{stack.actions_url}/webhook", raw=bomb, headers=deflate)
    assert status == 413 and len(bomb) < 100 * 1024
    gzip = {**secret, "Content-Encoding": "gzip"}
    assert http_json("POST", f"{stack.actions_url}/webhook", raw=b"x", headers=gzip)[0] == 415


# --- 5. REST callers and other channels' conversations ---------------------------------------


def test_a_rest_caller_cannot_reach_a_telegram_slack_or_web_chat_conversation(
    stack: Stack, telegram: FakeTelegramApi
) -> None:
    victim = victim_on_telegram(stack, telegram)
    assert "WhatsApp" not in knows(stack, str(victim.user))
    # Rasa's own conversation of the Telegram chat saw nothing of the REST calls.
    user_texts = [
        e.get("text") for e in stack.tracker(str(victim.user))["events"] if e["event"] == "user"
    ]
    assert "what do you know about me?" not in user_texts
    for other in ("U024BE7LH", uuid.uuid4().hex):  # a Slack user id, a web chat session id
        assert knows(stack, other).startswith(NOTHING_KNOWN)
        assert [e for e in stack.tracker(other)["events"] if e["event"] == "user"] == []


def test_the_rest_webhook_refuses_browser_pages_of_other_sites(stack: Stack) -> None:
    headers = {**stack.rest_headers(), "Origin": "https://evil.example"}
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    status, _ = http_json("POST", url, {"sender": rest_sender(), "message": "hi"}, headers=headers)
    assert status == 403


# --- 7. erasure leaves nothing -------------------------------------------------------------


def tables_holding(db: Path, needles: list[str]) -> dict[str, list[str]]:
    """Every table of an SQLite database, with the needles found anywhere in its rows."""
    found: dict[str, list[str]] = {}
    with sqlite3.connect(db) as connection:
        names = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for name in names:
            rows = connection.execute(f'SELECT * FROM "{name}"').fetchall()
            dumped = json.dumps(rows, default=str)
            hits = [needle for needle in needles if needle in dumped]
            if hits:
                found[name] = hits
    return found


def test_forget_me_leaves_no_id_and_no_text_in_any_table(
    stack: Stack, telegram: FakeTelegramApi
) -> None:
    canary = f"blue giraffe stamps {uuid.uuid4().hex[:12]}"
    shopper = victim_on_telegram(stack, telegram)
    code = link_code_of(shopper)
    chat = rest_sender()
    assert stack.texts(chat, f"link {code}")[0].startswith("Done")
    shopper.press("Yes, that was me", "Good")
    for text in ("hi", "no thanks", "weekly", canary):
        stack.texts(chat, text)
    needles = [str(shopper.user), chat, canary]
    databases = [stack.workdir / "rapport.db", stack.workdir / "trackers.db"]
    before = {db.name: tables_holding(db, needles) for db in databases}
    assert canary in json.dumps(before["rapport.db"]), before  # a positive control
    assert str(shopper.user) in json.dumps(before["trackers.db"]), before

    assert stack.texts(chat, "forget me")[0].startswith("I can delete everything")
    assert stack.texts(chat, "Yes, delete everything")[0].startswith("Done: everything")

    def clean() -> bool:
        return not any(tables_holding(db, needles) for db in databases)

    wait_until(clean, lambda: {db.name: tables_holding(db, needles) for db in databases})
    audit = tables_holding(stack.workdir / "rapport.db", ["erasure"])
    assert "audit_events" in audit  # the erasure itself is recorded, with counts only


def wait_until(
    condition: Callable[[], bool], state: Callable[[], Any], timeout: float = 20
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, state()
        time.sleep(0.2)


# --- 8. files --------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_databases_secrets_and_var_are_owner_only(stack: Stack) -> None:
    var = stack.workdir / "var"
    assert mode(var) == 0o700
    secrets = sorted(p.name for p in var.iterdir() if p.suffix in (".secret", ".salt", ".token"))
    assert secrets, "the stack made no secrets under var/"
    for path in [*var.glob("*.secret"), *var.glob("*.salt"), *var.glob("*.token")]:
        assert mode(path) == 0o600, path
    for database in ("rapport.db", "trackers.db"):
        assert mode(stack.workdir / database) == 0o600, database


# --- 9. logs when a REST client hangs up -----------------------------------------------------


def test_shopper_text_stays_out_of_the_log_when_a_rest_client_hangs_up(stack: Stack) -> None:
    canary = f"hang-up canary {uuid.uuid4().hex}"
    body = json.dumps({"sender": rest_sender(), "message": canary}).encode()
    host, port = stack.rasa_url.split("//")[1].split(":")
    request = (
        f"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {stack.rest_token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    seen = stack.logs().count("REST message processing cancelled")
    for _ in range(5):
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(request)
    # The hang-ups were seen (all five), and nothing of the text was logged with them.
    wait_until(
        lambda: stack.logs().count("REST message processing cancelled") >= seen + 5,
        lambda: stack.logs()[-2000:],
        timeout=60,
    )
    assert canary not in stack.logs()


# --- 10. origins -----------------------------------------------------------------------------


def handshake(stack: Stack, origin: str) -> tuple[int, str | None]:
    url = f"{stack.rasa_url}/socket.io/?EIO=4&transport=polling"
    request = urllib.request.Request(url, headers={"Origin": origin})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.headers.get("Access-Control-Allow-Origin")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Access-Control-Allow-Origin")


def test_only_the_configured_origin_may_open_the_web_chat_or_call_the_web_app(
    stack: Stack,
) -> None:
    status, allowed = handshake(stack, "https://evil.example")
    assert status == 400 and allowed is None
    status, allowed = handshake(stack, stack.web_url)
    assert status == 200 and allowed == stack.web_url
    evil = {"Origin": "https://evil.example"}
    assert http_json("GET", f"{stack.web_url}/", headers=evil)[0] == 403
    assert http_json("POST", f"{stack.web_url}/export/abc", headers=evil)[0] == 403
    assert http_json("GET", f"{stack.web_url}/", headers={"Origin": stack.web_url})[0] == 200


# --- budgets: these use them up, so they run last -----------------------------------------


def test_guessing_codes_from_fresh_chats_is_paused_for_the_source(
    stack: Stack, telegram: FakeTelegramApi
) -> None:
    answers = [stack.texts(rest_sender(), "link ZZ9Z-9ZZ9")[0] for _ in range(21)]
    assert all(a.startswith("That code doesn't match") for a in answers[:20]), answers
    assert answers[20].startswith("Linking is paused for a while")
    victim = victim_on_telegram(stack, telegram)
    code = link_code_of(victim)  # a right code does not get through either now
    assert stack.texts(rest_sender(), f"link {code}")[0].startswith("Linking is paused")
    assert "WhatsApp" not in " ".join(stack.texts(rest_sender(), "what do you know about me?"))


def test_a_flood_of_messages_gets_a_clear_answer_and_never_reaches_rasa(stack: Stack) -> None:
    flooder = rest_sender()
    answers = [stack.texts(flooder, f"message {n}") for n in range(22)]
    assert answers[-1] == [
        "You're sending messages faster than I can read them. Please wait a minute, then try again."
    ]
    users = [e for e in stack.tracker(stack.rest_conversation(flooder))["events"]]
    assert sum(1 for e in users if e["event"] == "user") == 20


def connects(stack: Stack) -> bool:
    """Whether one more web chat socket may join (Engine.IO handshake, Socket.IO connect).

    Spoken over plain HTTP long-polling, as a script would: a handshake, the namespace
    connect packet `40`, then the answer, `40{...}` (joined) or `44{...}` (refused).
    """
    base = f"{stack.rasa_url}/socket.io/?EIO=4&transport=polling"
    with urllib.request.urlopen(base, timeout=10) as reply:
        opened = json.loads(reply.read().decode()[1:])
    url = f"{base}&sid={opened['sid']}"
    post = urllib.request.Request(url, data=b"40", method="POST")
    with urllib.request.urlopen(post, timeout=10):
        pass
    with urllib.request.urlopen(url, timeout=10) as reply:
        answer = reply.read().decode()
    assert answer.startswith(("40", "44")), answer
    return answer.startswith("40")


def test_a_flood_of_web_chat_connections_is_refused(stack: Stack) -> None:
    allowed: list[bool] = []
    while len(allowed) < 40 and (not allowed or allowed[-1]):
        allowed.append(connects(stack))
    assert allowed[0] and not allowed[-1]
    assert len(allowed) <= 31  # at most 30 a minute (a few were used by earlier tests)


def test_anonymous_people_who_never_consented_are_deleted_by_retention(stack: Stack) -> None:
    lurker = rest_sender()
    stack.texts(lurker, "hi")
    identity = {"channel": "rest", "external_id": lurker}
    assert any(identity in p["identities"] for p in stack.export())
    env = {**stack.env, "RAPPORT_ANONYMOUS_DAYS": "0"}
    done = subprocess.run(
        [str(BIN / "rapport"), "retention", "run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "anonymous people who never consented" in done.stdout, done.stderr
    assert not any(identity in p["identities"] for p in stack.export())
    assert lurker not in json.dumps(tables_holding(stack.workdir / "trackers.db", [lurker]))
