"""Log canary: unique PII strings pushed through every channel and path never reach the logs.

One real stack (actions, Rasa, web app) runs with Telegram and Slack configured against
the local fakes (`tests.fakes`) and a shop secret. Unique canary strings (`cnry` + hex,
or a random 13-digit number where an id must be numeric) are embedded in everything a
shopper or a shop can send:

- REST webhook: sender ids, message texts with an e-mail address and a phone number,
  signed and forged customer ids in metadata, a purchase question about a canary item,
  a free-text answer that is stored, and the error paths (typed `/intent{...}`, oversized
  text, malformed JSON, bad senders, non-string messages, lone surrogates);
- Rasa's HTTP API: the tracker of a canary sender, with the right and a forged token;
- Telegram webhook: user ids, first/last/user names, texts, button payloads, stickers,
  edits, group messages, a forged secret, oversized and malformed bodies, a 429 and a
  403 from the (fake) Bot API;
- Slack webhook: user, DM and channel ids, user names, texts, button clicks, a forged
  and a stale signature, oversized and malformed bodies, a failed and a rate-limited
  `chat.postMessage`;
- web chat over Socket.IO on a websocket, as the page talks (a minimal client, see
  `SocketChat`): a canary session id, a signed and a forged customer, texts, the guard's
  refusals, messages for a session the socket did not join or without a session;
- orders API: order ids, customer ids, SKUs and item names (one of which the bot then
  asks about), invalid orders with canaries in every field, malformed JSON, a forged
  bearer token, and canaries in query strings of the API and the chat page.

Every background-processed message is waited for (conditions on the fakes' records,
never fixed sleeps). Then the stack is stopped, so every buffer is flushed, and every
log file it wrote (rasa.log, actions.log, web.log: stdout and stderr at the processes'
default levels) is searched, case-insensitively, for every canary and for every token
and secret the stack was given. Positive controls check that the canaries really went
through (stored, echoed, asked about) and that the log lines of the error paths are
there, so a silent or broken log capture cannot pass.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest
import websockets.client
from websockets.client import WebSocketClientProtocol

from bot.channels.customer import vouch
from tests.e2e.canaries import Canaries, leaks
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, Call, FakeSlackApi, dm_of
from tests.fakes.telegram_api import (
    ApiCall,
    FakeTelegramApi,
    callback_update,
    edited_update,
    group_chat,
    next_update_id,
    sticker_update,
    text_update,
)
from tests.harness import Stack, http_json, start_stack

INTRO = "Hi! I'm Calmly's assistant, a bot."
CONSENT = "To make our messages fit you better, may I ask you a couple of quick questions?"
REFUSED = "I can only read plain messages, not commands. Just tell me in your own words."
TOO_LONG = "That message is a bit long for me"
TEXT_ONLY = "Sorry, I can only read text for now."
FIRST_QUESTION = "How would you like to hear from us?"
WAIT = 20.0
"""Seconds any one background answer may take before the run fails."""


# --- the run -------------------------------------------------------------------------------


@dataclass
class Run:
    """What the canary run left behind: the logs, what went in, and what came out."""

    logs: str
    canaries: Canaries
    secrets: dict[str, str]
    export: list[dict[str, Any]]
    rest_replies: list[str]
    socket_replies: list[str]
    asked_item: str


TELEGRAM_SECRET = f"tg-secret-{secrets.token_hex(8)}"
TELEGRAM_TOKEN = f"{secrets.randbelow(10**9)}:AAcnry{secrets.token_hex(12)}"
SLACK_TOKEN = f"xoxb-cnry{secrets.token_hex(12)}"
SLACK_SECRET = f"slack-secret-{secrets.token_hex(8)}"
SHOP_SECRET = f"shop-secret-{secrets.token_hex(16)}"
SESSION_SECRET = f"session-secret-{secrets.token_hex(16)}"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    canaries = Canaries()
    with FakeTelegramApi(TELEGRAM_TOKEN) as telegram:
        slack = FakeSlackApi(token=SLACK_TOKEN).start()
        try:
            stack = start_stack(
                tmp_path_factory.mktemp("canary"),
                extra_env={
                    "PYTHONUNBUFFERED": "1",
                    "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
                    "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
                    "TELEGRAM_BASE_URL": telegram.base_url,
                    "SLACK_BOT_TOKEN": SLACK_TOKEN,
                    "SLACK_SIGNING_SECRET": SLACK_SECRET,
                    "SLACK_BASE_URL": f"{slack.url}/api/",
                    "RAPPORT_SHOP_SECRET": SHOP_SECRET,
                    "RAPPORT_SESSION_SECRET": SESSION_SECRET,
                },
            )
            try:
                api_token = stack.rapport("tokens", "create", "--scope", "orders").strip()
                customer, item = drive_orders(stack, api_token, canaries)
                rest_replies = drive_rest(stack, canaries, customer)
                export_token = drive_rights(stack, canaries)
                drive_rasa_api(stack, canaries)
                drive_telegram(stack, telegram, canaries)
                drive_slack(stack, slack, canaries)
                socket_replies = asyncio.run(drive_socketio(stack, canaries))
                export = stack.export()
            finally:
                stack.stop()
        finally:
            slack.stop()
    watched = {
        "Telegram bot token": TELEGRAM_TOKEN,
        "Telegram bot token (secret part)": TELEGRAM_TOKEN.split(":", 1)[1],
        "Telegram webhook secret": TELEGRAM_SECRET,
        "Slack bot token": SLACK_TOKEN,
        "Slack signing secret": SLACK_SECRET,
        "shop secret": SHOP_SECRET,
        "web chat session secret": SESSION_SECRET,
        "orders API token": api_token,
        "export link token": export_token,
        "Rasa API JWT secret": stack.jwt_secret,
        "REST webhook token": stack.rest_token,
        "action server secret": stack.action_secret,
    }
    yield Run(
        logs=stack.logs(),
        canaries=canaries,
        secrets={value: where for where, value in watched.items()},
        export=export,
        rest_replies=rest_replies,
        socket_replies=socket_replies,
        asked_item=item,
    )


# --- orders API and the web app ------------------------------------------------------------


def drive_orders(stack: Stack, token: str, c: Canaries) -> tuple[str, str]:
    """Orders with canaries in, the error paths too; the customer and the unusual item."""
    customer = c.new("orders: customer_id")
    item = f"Wrap Dress {c.new('orders: item name')}"
    menswear = [
        {"sku": c.new("orders: sku"), "name": c.new("orders: item name"), "category": category}
        for category in ("apparel/menswear/shirts", "apparel/menswear/trousers")
    ]
    history = [
        {
            "order_id": c.new("orders: order_id"),
            "customer_id": customer,
            "ordered_at": f"2026-0{n + 1}-10T10:00:00Z",
            "items": menswear,
        }
        for n in range(3)
    ]
    dress = {
        "order_id": c.new("orders: order_id"),
        "customer_id": customer,
        "ordered_at": "2026-11-20T10:00:00+01:00",
        "items": [
            {
                "sku": c.new("orders: sku"),
                "name": item,
                "category": "apparel/womenswear/dresses",
                "price": 89.0,
            }
        ],
    }
    url = f"{stack.web_url}/api/v1/orders"
    auth = {"Authorization": f"Bearer {token}"}
    status, body = http_json("POST", url, {"orders": [*history, dress]}, headers=auth)
    assert status == 201, body
    assert sum(r["flagged"] for r in body["results"]) >= 1, body

    invalid = {
        "order_id": c.new("invalid order: order_id") * 5,
        "customer_id": c.new("invalid order: customer_id"),
        "ordered_at": c.new("invalid order: ordered_at"),
        "email": c.email("invalid order: extra field"),
        "items": [
            {
                "sku": "",
                "name": c.new("invalid order: item name"),
                "category": f"/{c.new('invalid order: category')}",
                "quantity": c.new("invalid order: quantity"),
                "price": c.new("invalid order: price"),
            }
        ],
    }
    status, body = http_json("POST", url, invalid, headers=auth)
    assert status == 400, body
    status, _ = http_json("POST", url, [c.new("orders: not an object")], headers=auth)
    assert status == 400
    raw = f'{{"order_id": "{c.new("orders: malformed JSON")}", '.encode()
    status, _ = http_json("POST", url, raw=raw, headers=auth)
    assert status == 400
    forged = {"Authorization": f"Bearer {c.new('orders: forged bearer token')}"}
    status, _ = http_json("POST", url, dress, headers=forged)
    assert status == 401
    query = urllib.parse.urlencode({"email": c.email("orders: query string")})
    status, _ = http_json("POST", f"{url}?{query}", dress, headers=auth)
    assert status == 200
    query = urllib.parse.urlencode({"customer": c.new("chat page: query string")})
    status, page = http_json("GET", f"{stack.web_url}/?{query}")
    assert status == 200 and "<html" in str(page).lower()
    return customer, item


# --- REST webhook and Rasa's HTTP API ------------------------------------------------------


def rest(stack: Stack, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    return stack.rest(body, raw=raw)


def rest_say(stack: Stack, sender: str, text: str, metadata: Any = None) -> list[str]:
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata is not None:
        body["metadata"] = metadata
    status, replies = rest(stack, body)
    assert status == 200, replies
    return [r.get("text", "") for r in replies]


def drive_rights(stack: Stack, c: Canaries) -> str:
    """Marketing consent, withdrawal, a change and an export link (opened and used) over REST.

    Returns the export link's token, which must never be logged.
    """
    me = c.new("REST: sender (rights)")
    rest_say(stack, me, "hi")
    rest_say(stack, me, "Yes, go ahead")
    rest_say(stack, me, "email and text me")
    rest_say(stack, me, f"only email {c.new('REST: marketing answer')}")
    rest_say(stack, me, f"please stop texting me {c.new('REST: withdrawal')}")
    rest_say(stack, me, "that's wrong")
    rest_say(stack, me, "How to contact you")
    rest_say(stack, me, f"whatsapp {c.new('REST: changed value')}")
    rest_say(stack, me, c.pii_text("REST: text after a change"))
    [link] = [t for t in rest_say(stack, me, "export my data") if "/export/" in t]
    url = link.split(": ", 1)[1].split()[0]
    assert http_json("GET", url)[0] == 200
    assert http_json("POST", url)[0] == 200
    assert http_json("POST", url)[0] == 410
    return url.rsplit("/", 1)[1]


def drive_rest(stack: Stack, c: Canaries, customer: str) -> list[str]:
    """Conversations and refusals over REST; every reply the bot sent back."""
    replies: list[str] = []
    vouched = {"customer": vouch(customer, SHOP_SECRET)}
    shopper = c.new("REST: sender (signed-in customer)")
    replies += rest_say(stack, shopper, "hi", vouched)
    replies += rest_say(stack, shopper, "Yes, go ahead", vouched)
    replies += rest_say(stack, shopper, f"it's for my sister {c.new('REST: text')}", vouched)
    replies += rest_say(stack, shopper, c.pii_text("REST: text"), vouched)

    # A free-text answer the store keeps as typed (motivations: "in your words").
    free = c.new("REST: sender (free text)")
    replies += rest_say(stack, free, "hello")
    replies += rest_say(stack, free, "sure")
    replies += rest_say(stack, free, "skip")
    replies += rest_say(stack, free, "skip")
    motivation = f"sleeping better after night shifts {c.new('REST: free-text answer')}"
    replies += rest_say(stack, free, motivation)

    other = c.new("REST: sender (refusals)")
    expires = int(time.time()) + 600
    forged_id = c.new("REST: forged customer id")
    forged = {"customer": {"id": forged_id, "expires": expires, "signature": "0" * 64}}
    replies += rest_say(stack, other, c.pii_text("REST: text"), forged)
    too_long_id = {"customer": {"id": c.new("REST: unusable customer id") * 10, "signature": "x"}}
    no_expiry = {"customer": {"id": c.new("REST: customer id without expiry"), "signature": "x"}}
    replies += rest_say(stack, other, "hi", no_expiry)
    replies += rest_say(stack, other, "hi", too_long_id)
    not_strings = {"customer": {"id": [c.new("REST: customer id not a string")]}}
    replies += rest_say(stack, other, "hi", not_strings)
    injected = f'/inform{{"email": "{c.email("REST: /intent injection")}"}}'
    assert rest_say(stack, other, injected) == [REFUSED]
    oversized = rest_say(stack, other, f"{c.pii_text('REST: oversized text')} " * 40)
    assert oversized[0].startswith(TOO_LONG), oversized
    # Not valid Unicode (a lone surrogate, from a JSON escape) in a text and a customer id.
    surrogate = f"\ud800 {c.pii_text('REST: text with a lone surrogate')}"
    odd = f"\udfff{c.new('REST: customer id with a lone surrogate')}"
    odd_id = {"customer": {"id": odd, "signature": "0" * 64}}
    replies += rest_say(stack, c.new("REST: sender (lone surrogate)"), surrogate, odd_id)

    bad_bodies: list[tuple[Any, bytes | None]] = [
        (None, f'{{"sender": "{c.new("REST: malformed JSON")}", "message": '.encode()),
        ([c.new("REST: body not an object")], None),
        ({"message": c.pii_text("REST: no sender")}, None),
        ({"sender": c.new("REST: sender too long") * 10, "message": "hi"}, None),
        ({"sender": f"{c.new('REST: sender with a control char')}\n", "message": "hi"}, None),
        ({"sender": f"\ud800{c.new('REST: sender with a lone surrogate')}", "message": "hi"}, None),
        ({"sender": c.new("REST: sender"), "message": {"text": c.new("REST: non-string")}}, None),
    ]
    for body, raw in bad_bodies:
        status, answer = rest(stack, body, raw)
        assert status == 400, (body, raw, answer)
    return replies


def drive_rasa_api(stack: Stack, c: Canaries) -> None:
    """Rasa's tracker API for a canary sender, with the right and a forged token."""
    sender = c.new("Rasa API: sender")
    url = f"{stack.rasa_url}/conversations/{sender}/tracker"
    status, _ = http_json("GET", url, headers=stack.api_headers())
    assert status == 200
    forged = {"Authorization": f"Bearer {c.new('Rasa API: forged token')}"}
    status, _ = http_json("GET", url, headers=forged)
    assert status == 401
    status, _ = http_json("GET", f"{url}?token={c.new('Rasa API: token in the query')}")
    assert status == 401


# --- Telegram ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramUser:
    """A Telegram account made of canaries."""

    id: int
    names: dict[str, str]

    @classmethod
    def new(cls, c: Canaries) -> TelegramUser:
        names = {
            "first_name": c.new("Telegram: first_name"),
            "last_name": c.new("Telegram: last_name"),
            "username": c.new("Telegram: username"),
        }
        return cls(c.number("Telegram: user id"), names)

    def dress(self, update: dict[str, Any]) -> dict[str, Any]:
        """`update` (built by tests.fakes.telegram_api) with this user's names everywhere."""
        for kind in ("message", "edited_message", "callback_query"):
            inner = update.get(kind)
            if inner is None:
                continue
            inner["from"].update(self.names)
            chat = (inner.get("message") or inner)["chat"]
            if chat["type"] == "private":
                chat.update(self.names)
        return update

    def text(self, text: str) -> dict[str, Any]:
        return self.dress(text_update(self.id, text))


def tg_post(
    stack: Stack, update: Any = None, *, secret: str = TELEGRAM_SECRET, raw: bytes | None = None
) -> int:
    url = f"{stack.rasa_url}/webhooks/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    status, _ = http_json("POST", url, update, headers=headers, raw=raw)
    return status


def tg_turn(
    stack: Stack, fake: FakeTelegramApi, user: TelegramUser, update: dict[str, Any], last: str
) -> list[str]:
    """Deliver `update`; the texts sent to the user since, once one starting with `last` came."""
    before = len(fake.sent(user.id))
    assert tg_post(stack, update) == 200

    def answered() -> list[str] | None:
        new = [call.text for call in fake.sent(user.id)[before:]]
        return new if any(text.startswith(last) for text in new) else None

    return fake.wait_for(answered, WAIT)


def tg_settle(stack: Stack, fake: FakeTelegramApi, user: TelegramUser) -> None:
    """Return once every update delivered for `user` so far was processed (updates of one
    chat are processed in order, so the answer to a later known message is a barrier)."""
    tg_turn(stack, fake, user, user.text("/help"), REFUSED)


def drive_telegram(stack: Stack, fake: FakeTelegramApi, c: Canaries) -> None:
    """A conversation, every refusal, and the Bot API's 429 and 403, all with canaries."""
    user = TelegramUser.new(c)
    tg_turn(stack, fake, user, user.text("/start"), CONSENT)
    tg_turn(stack, fake, user, user.dress(callback_update(user.id, "Yes, go ahead")), "How")
    tg_turn(stack, fake, user, user.text(c.pii_text("Telegram: text")), "")
    injected = f'/inform{{"email": "{c.email("Telegram: /intent injection")}"}}'
    tg_turn(stack, fake, user, user.text(injected), REFUSED)
    oversized = user.text(f"{c.pii_text('Telegram: oversized text')} " * 40)
    tg_turn(stack, fake, user, oversized, TOO_LONG)
    tg_turn(stack, fake, user, user.dress(sticker_update(user.id)), TEXT_ONLY)
    for update in (
        user.dress(callback_update(user.id, c.new("Telegram: button payload"))),
        user.dress(callback_update(user.id, f"rp#{c.new('Telegram: unknown payload key')}")),
        user.dress(edited_update(user.id, c.pii_text("Telegram: edited text"))),
        user.dress(text_update(user.id, c.pii_text("Telegram: group text"), group_chat(-1001))),
        user.text(f"\ud800 {c.pii_text('Telegram: text with a lone surrogate')}"),
    ):
        assert tg_post(stack, update) == 200
    tg_settle(stack, fake, user)

    refused = user.text(c.pii_text("Telegram: text with a forged secret"))
    assert tg_post(stack, refused, secret=c.new("Telegram: forged secret")) == 403
    assert tg_post(stack, user.text(f"{c.new('Telegram: oversized body')} " * 4000)) == 413
    raw = f'{{"update_id": 1, "message": {{"text": "{c.new("Telegram: bad JSON")}"'.encode()
    assert tg_post(stack, raw=raw) == 400
    shapeless = {"update_id": next_update_id(), "message": {"text": c.new("Telegram: no chat")}}
    assert tg_post(stack, shapeless) == 400

    # The Bot API says 429 (waited out and retried), then 403 (the shopper blocked the bot).
    limited = TelegramUser.new(c)
    fake.fail_next_sends(1, retry_after=1)
    tg_turn(stack, fake, limited, limited.text("/start"), CONSENT)
    assert [call.status for call in sends_to(fake, limited)][:2] == [429, 200]
    blocked = TelegramUser.new(c)
    fake.reject_next_sends(1)
    tg_turn(stack, fake, blocked, blocked.text("/start"), CONSENT)
    assert [call.status for call in sends_to(fake, blocked)][:2] == [403, 200]


def sends_to(fake: FakeTelegramApi, user: TelegramUser) -> list[ApiCall]:
    return [call for call in fake.calls("sendMessage") if call.chat_id == str(user.id)]


# --- Slack ---------------------------------------------------------------------------------


def slack_signed(body: bytes, *, secret: str = SLACK_SECRET, age: int = 0) -> dict[str, str]:
    sent_at = str(int(time.time()) - age)
    digest = hmac.new(secret.encode(), f"v0:{sent_at}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": sent_at, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def slack_post(stack: Stack, body: bytes, headers: dict[str, str]) -> int:
    url = f"{stack.rasa_url}/webhooks/slack/webhook"
    status, _ = http_json("POST", url, raw=body, headers=headers)
    return status


_slack_ts = itertools.count(1)


def slack_event(user: str, channel: str, text: str, kind: str = "message") -> bytes:
    """An Events API envelope with a DM (`message.im`) or an `app_mention`."""
    ts = f"{int(time.time())}.{next(_slack_ts):06d}"
    event = {"type": kind, "user": user, "channel": channel, "text": text, "ts": ts}
    if kind == "message":
        event["channel_type"] = "im"
    envelope = {
        "type": "event_callback",
        "team_id": TEAM_ID,
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": event,
    }
    return json.dumps(envelope).encode()


def slack_click(user: str, username: str, channel: str, post: Call, title: str) -> bytes:
    """A `block_actions` request: `user` clicked the button `title` under `post`."""
    [button] = [b for b in post.buttons() if b["text"]["text"] == title]
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "calmly"},
        "user": {"id": user, "username": username, "name": username, "team_id": TEAM_ID},
        "container": {"type": "message", "message_ts": post.ts, "channel_id": channel},
        "channel": {"id": channel, "name": "directmessage"},
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "value": button["value"],
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def slack_wait(fake: FakeSlackApi, what: str, condition: Callable[[], bool]) -> None:
    assert fake.wait_for(condition, WAIT), what


def slack_say(
    stack: Stack, fake: FakeSlackApi, user: str, channel: str, text: str, last: str
) -> list[Call]:
    """Send a DM; the posts since, once one starting with `last` was posted successfully."""
    before = len(fake.posts(channel))
    body = slack_event(user, channel, text)
    assert slack_post(stack, body, slack_signed(body)) == 200

    def answered() -> bool:
        new = fake.posts(channel)[before:]
        return any(p.text.startswith(last) and p.status == 200 for p in new)

    slack_wait(fake, f"a post starting with {last!r}", answered)
    return fake.posts(channel)[before:]


def slack_ids(c: Canaries, where: str) -> tuple[str, str]:
    """A canary Slack user id and DM channel id (Slack ids are upper case)."""
    suffix = secrets.token_hex(5).upper()
    user = c.add(f"U{suffix}", f"Slack: {where} user id")
    return user, c.add(f"D{suffix}", f"Slack: {where} DM id")


def drive_slack(stack: Stack, fake: FakeSlackApi, c: Canaries) -> None:
    """A conversation with a click, a mention, every refusal, and failed and limited posts."""
    user, dm = slack_ids(c, "shopper")
    username = c.new("Slack: username")
    hello = slack_say(stack, fake, user, dm, "hi", CONSENT)
    before = len(fake.posts(dm))
    [consent] = [post for post in hello if post.text.startswith(CONSENT)]
    click = slack_click(user, username, dm, consent, "Yes, go ahead")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert slack_post(stack, click, {**slack_signed(click), **form}) == 200
    slack_wait(
        fake,
        "the first question after the click",
        lambda: any(p.text.startswith(FIRST_QUESTION) for p in fake.posts(dm)[before:]),
    )
    slack_say(stack, fake, user, dm, c.pii_text("Slack: text"), "")
    injected = f'/inform{{"email": "{c.email("Slack: /intent injection")}"}}'
    slack_say(stack, fake, user, dm, injected, REFUSED)
    slack_say(stack, fake, user, dm, f"{c.pii_text('Slack: oversized text')} " * 40, TOO_LONG)

    surrogate = slack_event(user, dm, f"\ud800 {c.pii_text('Slack: text with a lone surrogate')}")
    assert slack_post(stack, surrogate, slack_signed(surrogate)) == 200
    slack_say(stack, fake, user, dm, "/help", REFUSED)  # a barrier: handled in arrival order

    mentioner = c.add(f"U{secrets.token_hex(5).upper()}", "Slack: mentioning user id")
    room = c.add(f"C{secrets.token_hex(5).upper()}", "Slack: channel id")
    mention = slack_event(
        mentioner, room, f"<@{BOT_USER_ID}> {c.pii_text('Slack: mention text')}", "app_mention"
    )
    assert slack_post(stack, mention, slack_signed(mention)) == 200
    # Answered in the mentioner's DM; the channel gets only an ephemeral invitation.
    slack_wait(fake, "an answer to the mention", lambda: bool(fake.posts(dm_of(mentioner))))
    assert fake.ephemerals(room) and not fake.posts(room)

    forged_user, forged_dm = slack_ids(c, "forged")
    forged = slack_event(forged_user, forged_dm, c.pii_text("Slack: forged request"))
    assert slack_post(stack, forged, slack_signed(forged, secret=c.new("Slack: forged key"))) == 401
    assert slack_post(stack, forged, slack_signed(forged, age=600)) == 401
    padded = slack_event(user, dm, f"{c.new('Slack: oversized body')} " * 4000)
    assert slack_post(stack, padded, slack_signed(padded)) == 413
    broken = f'{{"type": "event_callback", "event": {{"text": "{c.new("Slack: bad JSON")}"'
    assert slack_post(stack, broken.encode(), slack_signed(broken.encode())) == 400
    bad_form = urllib.parse.urlencode({"payload": "{" + c.new("Slack: bad payload")}).encode()
    assert slack_post(stack, bad_form, {**slack_signed(bad_form), **form}) == 400

    # chat.postMessage refused once (logged without the text; the conversation goes on) ...
    fake.fail_next_posts(1, "channel_not_found")
    before = len(fake.posts(dm))
    body = slack_event(user, dm, f"/affirm {c.new('Slack: text answered by a refused post')}")
    assert slack_post(stack, body, slack_signed(body)) == 200
    slack_wait(fake, "the refused post", lambda: len(fake.posts(dm)) > before)
    assert fake.posts(dm)[before].ts is None, "the fake should have refused this post"
    # ... then rate limited once: slack_sdk waits for Retry-After and posts again.
    fake.rate_limit_next_posts(1, retry_after=1)
    limited = slack_say(stack, fake, user, dm, f"/stop {c.new('Slack: text')}", REFUSED)
    assert [p.status for p in limited] == [429, 200], [(p.status, p.text) for p in limited]


# --- web chat over Socket.IO ---------------------------------------------------------------


class SocketChat:
    """One web chat as the page talks to Rasa: Socket.IO over a websocket (Engine.IO 4).

    python-socketio's AsyncClient cannot open a websocket next to Rasa 3.6's aiohttp 3.9
    (its engineio needs aiohttp's `ClientWSTimeout`, new in 3.10), and over long polling
    it takes up to the 25 s ping interval to disconnect. The protocol the page speaks is
    small: `0{...}` opens, `40` joins the default namespace, `42[event, data]` is an
    event, `2` is a ping answered with `3`.
    """

    def __init__(self, ws: WebSocketClientProtocol) -> None:
        self._ws = ws
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, rasa_url: str) -> SocketChat:
        url = rasa_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        ws = await websockets.client.connect(url, open_timeout=WAIT)
        opening = await asyncio.wait_for(ws.recv(), WAIT)
        assert isinstance(opening, str) and opening.startswith("0"), opening
        await ws.send("40")
        return cls(ws)

    async def _read(self) -> None:
        async for frame in self._ws:
            if frame == "2":
                await self._ws.send("3")
            elif isinstance(frame, str) and frame.startswith("42"):
                event, *data = json.loads(frame[2:])
                async with self._changed:
                    self.events.append((event, data[0] if data else None))
                    self._changed.notify_all()

    def uttered(self) -> list[str]:
        return [
            str(data.get("text", ""))
            for event, data in self.events
            if event == "bot_uttered" and isinstance(data, dict)
        ]

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        await self._ws.send("42" + json.dumps([event, data]))

    async def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(condition), WAIT)
            except asyncio.TimeoutError:
                raise AssertionError(f"no {what} in {WAIT}s; got {self.events}") from None

    async def start_session(self, request: dict[str, Any]) -> dict[str, str]:
        """Send a `session_request`; the session id and token the server confirmed."""
        await self.emit("session_request", request)
        await self.wait_for(
            lambda: any(event == "session_confirm" for event, _ in self.events), "session_confirm"
        )
        confirmed = [data for event, data in self.events if event == "session_confirm"]
        return dict(confirmed[-1])

    async def say(self, event: str, data: dict[str, Any], last: str) -> list[str]:
        """Emit `event`; the bot's messages since, once one starting with `last` arrived."""
        before = len(self.uttered())
        await self.emit(event, data)
        await self.wait_for(
            lambda: any(text.startswith(last) for text in self.uttered()[before:]),
            f"bot message starting with {last!r}",
        )
        return self.uttered()[before:]

    async def close(self) -> None:
        """Leave the namespace and close the connection, as a page being closed does."""
        await self._ws.send("41")
        await self._ws.send("1")
        await self._ws.close()
        await self._reader


async def drive_socketio(stack: Stack, c: Canaries) -> list[str]:
    """A web chat (its issued session id and token watched) with a signed customer; refusals;
    a forged session token and a forged customer."""
    customer = c.new("Socket.IO: customer id")
    vouched = vouch(customer, SHOP_SECRET)
    chat = await SocketChat.open(stack.rasa_url)
    try:
        confirmed = await chat.start_session({"customer": vouched})
        session = c.add(confirmed["session_id"], "Socket.IO: session id")
        c.add(confirmed["session_token"], "Socket.IO: session token")
        ids = {"session_id": session}
        await chat.say("rapport_start", ids, CONSENT)
        await chat.say("user_uttered", {**ids, "message": "Yes, go ahead"}, FIRST_QUESTION)
        await chat.say("user_uttered", {**ids, "message": c.pii_text("Socket.IO: text")}, "")
        injected = f'/inform{{"email": "{c.email("Socket.IO: /intent injection")}"}}'
        await chat.say("user_uttered", {**ids, "message": injected}, REFUSED)
        oversized = f"{c.pii_text('Socket.IO: oversized text')} " * 40
        await chat.say("user_uttered", {**ids, "message": oversized}, TOO_LONG)
        surrogate = f"\ud800 {c.pii_text('Socket.IO: text with a lone surrogate')}"
        await chat.emit("user_uttered", {**ids, "message": surrogate})
        # Rasa handles one conversation's messages in order: this answer comes after it.
        await chat.say("user_uttered", {**ids, "message": "why do you ask?"}, "")
        # Messages for a session this socket did not join, or with no valid session: ignored.
        stranger = c.add(secrets.token_hex(16), "Socket.IO: someone else's session id")
        text = c.pii_text("Socket.IO: text for another session")
        await chat.emit("user_uttered", {"session_id": stranger, "message": text})
        await chat.emit("user_uttered", {"session_id": c.new("Socket.IO: bad session id")})
        # A barrier: the server starts one handler per event, in arrival order, and each
        # message above is refused or handed to Rasa before its handler's first await.
        await chat.say("user_uttered", {**ids, "message": "/help"}, REFUSED)
        replies = chat.uttered()
    finally:
        await chat.close()

    forged = await SocketChat.open(stack.rasa_url)
    try:
        token = c.add(f"{secrets.token_hex(16)}.cnry.{c.new('x')}", "Socket.IO: forged token")
        bad = {"id": c.new("Socket.IO: forged customer id"), "signature": "f" * 64}
        confirmed = await forged.start_session({"session_token": token, "customer": bad})
        other = c.add(confirmed["session_id"], "Socket.IO: session id (forged customer)")
        c.add(confirmed["session_token"], "Socket.IO: session token (forged customer)")
        await forged.say("rapport_start", {"session_id": other}, CONSENT)
    finally:
        await forged.close()
    return replies


# --- the checks ----------------------------------------------------------------------------


def test_the_canaries_went_through_the_stack(run: Run) -> None:
    identities = [(i["channel"], i["external_id"]) for p in run.export for i in p["identities"]]
    for channel, where in [
        ("rest", "REST: sender (signed-in customer)"),
        ("telegram", "Telegram: user id"),
        ("slack", "Slack: shopper user id"),
        ("socketio", "Socket.IO: session id"),
        ("shop", "orders: customer_id"),
        ("shop", "Socket.IO: customer id"),
    ]:
        values = [v for v, w in run.canaries.values.items() if w == where]
        assert values and any((channel, v) in identities for v in values), (channel, where)
    # The signed-in shopper was asked about the canary item, and free text was stored as typed.
    assert any(run.asked_item in reply for reply in run.rest_replies), run.rest_replies
    stored = json.dumps(run.export)
    [free_text] = [v for v, w in run.canaries.values.items() if w == "REST: free-text answer"]
    assert free_text in stored
    assert run.socket_replies and run.socket_replies[0].startswith(INTRO)


def test_the_error_paths_ran_and_their_log_lines_were_captured(run: Run) -> None:
    for line in [
        "Rasa server is up and running",  # rasa.log
        "action server on http://127.0.0.1",  # actions.log
        '"POST /api/v1/orders HTTP/1.1" 201',  # web.log (uvicorn's access log)
        '"POST /api/v1/orders HTTP/1.1" 400',
        '"POST /api/v1/orders HTTP/1.1" 401',
        "message refused by guard: command_blocked (channel rest)",
        "message refused by guard: too_long (channel telegram)",
        "message refused by guard: too_long (channel slack)",
        "message refused by guard: command_blocked (channel socketio)",
        "customer metadata with an invalid signature ignored",
        "customer metadata with an unusable id ignored",
        "customer metadata without a string id and signature ignored",
        "customer metadata without an integer `expires` ignored",
        "Telegram button with an unknown payload key ignored",
        "Telegram rate limit hit: retrying in 1.0 s",
        "Telegram delivery failed: Forbidden",
        "/bot<token>/sendMessage",
        "slack request with a missing, invalid or stale signature refused",
        "slack chat.postMessage refused: channel_not_found",
        "socket.io message for a session this socket did not join ignored",
        "socket.io message without a valid session id ignored",
        "web chat session token not valid: a new session was issued",
    ]:
        assert line in run.logs, line


def test_no_canary_appears_in_any_log(run: Run) -> None:
    found = leaks(run.logs, run.canaries.values)
    assert not found, "\n".join(found)


def test_no_token_or_secret_appears_in_any_log(run: Run) -> None:
    found = leaks(run.logs, run.secrets)
    assert not found, "\n".join(found)
