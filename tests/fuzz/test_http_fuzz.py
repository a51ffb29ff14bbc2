"""Property-based fuzzing of every HTTP endpoint and message path of the running stack.

Endpoints: `POST /api/v1/orders` and the export links `GET|POST /export/{token}` on the
web app, and on Rasa the REST webhook, the Telegram webhook and the Slack webhook
(events and interactivity). Invariants:

- no request is answered with a 5xx;
- a refused request (4xx) stores nothing: the row count of every table is unchanged
  (checked per request where the endpoint answers synchronously or nothing else runs);
- no stored value contains a NUL character, and no process logs a traceback or a
  failed turn (checked after every test by `conftest.invariants`);
- typed `/intent{...}` texts, however disguised, never change consent: shoppers who
  were just asked for it get injected texts (typed, and as button payloads on
  Telegram and Slack); afterwards their consent ledger is still empty, and a plain
  "yes" still grants it (so the question really was open all along).

Orders come first, so that chats vouched for the same shop customers (REST metadata)
meet people with orders and flagged purchases. `RAPPORT_FUZZ_EXAMPLES` sets the
examples per property (`make fuzz`: 2000).

The web chat's Socket.IO events and the authentication of Rasa's HTTP API
(`GET /conversations/<id>/tracker`, `PUT /conversations/<id>/tracker/events`) are fuzzed
in test_socketio_and_api_fuzz.py.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from functools import partial
from typing import Any, Callable

from hypothesis import example, given
from hypothesis import strategies as st

from tests.fakes.slack_api import BOT_USER_ID
from tests.fakes.telegram_api import callback_update, sticker_update, text_update
from tests.fuzz import strategies as fs
from tests.fuzz.support import (
    EXAMPLES,
    SLACK_SECRET,
    TELEGRAM_SECRET,
    Fuzz,
    fuzz_settings,
    shop_customer,
    slack_signature,
)
from tests.harness import http_json

REFUSED = "I can only read plain messages, not commands. Just tell me in your own words."
TOO_LONG = "That message is a bit long for me"
CONSENT = "may I ask you a couple of quick questions"
TEXT_ONLY = "Sorry, I can only read text for now."
FORM = "application/x-www-form-urlencoded"
CONTENT_TYPES = ["application/json", FORM, "text/plain", ""]
POOL = max(8, min(200, EXAMPLES // 2))
"""Shoppers waiting for a consent answer on Telegram and on Slack, shared by the injections."""

Response = tuple[int, Any]

LATIN_1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
"""What an HTTP client can put in a header value at all."""


def refused_stores_nothing(fuzz: Fuzz, send: Callable[[], Response]) -> Response:
    """`send()`: no 5xx, and after a 4xx every table has as many rows as before."""
    before = fuzz.store.counts()
    status, body = send()
    fuzz.record(f"status {status}")
    assert status < 500, (status, body)
    if status >= 400:
        assert fuzz.store.counts() == before, (status, body)
    return status, body


def guard_answer(replies: Any) -> bool:
    """True when `replies` is the guard's single refusal (a command, or too long)."""
    if not isinstance(replies, list) or len(replies) != 1:
        return False
    text = str(replies[0].get("text", ""))
    return text == REFUSED or text.startswith(TOO_LONG)


def _order(**fields: Any) -> dict[str, Any]:
    item = {"sku": "S-1", "name": "Shirt", "category": "apparel/menswear/shirts", "quantity": 1}
    order = {
        "order_id": f"fz-{uuid.uuid4().hex}",
        "customer_id": "fz-c1",
        "ordered_at": "2026-01-10T10:00:00Z",
        "items": [item],
    }
    return {**order, **fields}


# --- GET|POST /export/{token} ----------------------------------------------------------


def test_export_links_any_token_and_body(fuzz: Fuzz) -> None:
    """Made-up links never download anything and never fail: the same 410 (or 404/413)."""
    tokens = st.one_of(
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        fs.tricky_text(),
    )

    @fuzz_settings()
    @given(token=tokens, method=st.sampled_from(["GET", "POST"]), raw=st.binary(max_size=1024))
    @example(token="A" * 43, method="POST", raw=b"")
    @example(token="../api/v1/orders", method="POST", raw=b"{}")
    def open_link(token: str, method: str, raw: bytes) -> None:
        path = urllib.parse.quote(token, safe="")
        url = f"{fuzz.stack.web_url}/export/{path}"
        status, body = refused_stores_nothing(
            fuzz, lambda: http_json(method, url, raw=raw if method == "POST" else None)
        )
        # 307: a trailing slash ("0/") is redirected to the link without it.
        assert status in (307, 404, 405, 410, 413), (status, body)
        assert "person_id" not in str(body)

    open_link()


# --- POST /api/v1/orders ---------------------------------------------------------------


def test_orders_any_body_with_a_valid_token(fuzz: Fuzz) -> None:
    bodies = st.one_of(
        st.binary(max_size=2048),
        fs.json_values.map(fs.dumps),
        fs.tricky_text().map(str.encode),
    )

    @fuzz_settings()
    @given(raw=bodies)
    @example(raw=json.dumps(_order(order_id="\ud800")).encode())  # JSON escapes it
    @example(raw=b"[" * 5000)
    def post(raw: bytes) -> None:
        status, body = refused_stores_nothing(fuzz, lambda: fuzz.orders(raw=raw))
        assert status in (200, 201, 400), (status, body)

    post()


def test_orders_order_like_objects(fuzz: Fuzz) -> None:
    @fuzz_settings()
    @given(document=fs.order_bodies())
    @example(document=_order(order_id="fz-\x00"))
    @example(document=_order(customer_id="c\x00"))
    @example(document=_order(items=[{"sku": "s", "name": "n", "category": "\x00x"}]))
    @example(document=_order(ordered_at="0001-01-01T00:00:00+05:00"))
    @example(document=_order(ordered_at="9999-12-31T23:59:59-05:00"))
    def post(document: Any) -> None:
        status, body = refused_stores_nothing(fuzz, lambda: fuzz.orders(raw=fs.dumps(document)))
        assert status in (200, 201, 400), (status, body)
        if status < 300:
            count = len(document["orders"]) if "orders" in document else 1
            assert len(body["results"]) == count, body
            fuzz.record(f"flagged {min(sum(r['flagged'] for r in body['results']), 1)}")

    post()


def test_orders_any_authorization_header_is_refused(fuzz: Fuzz) -> None:
    @fuzz_settings()
    @given(
        authorization=fs.authorizations(fuzz.orders_token),
        document=st.one_of(fs.order_bodies(), st.just(_order())),
    )
    def post(authorization: str, document: Any) -> None:
        status, body = refused_stores_nothing(
            fuzz, lambda: fuzz.orders(raw=fs.dumps(document), authorization=authorization)
        )
        assert status in (400, 401, 403), (status, body)

    post()


# --- REST webhook ----------------------------------------------------------------------


def test_rest_any_bytes(fuzz: Fuzz) -> None:
    @fuzz_settings()
    @given(raw=st.one_of(st.binary(max_size=4096), fs.tricky_text().map(str.encode)))
    @example(raw=b'{"sender": "fz-a", "message": "\\ud800"}')
    @example(raw=b'{"sender": "\\ud800", "message": "hi"}')
    def post(raw: bytes) -> None:
        refused_stores_nothing(fuzz, lambda: fuzz.rest(raw=raw))

    post()


def test_rest_any_json(fuzz: Fuzz) -> None:
    @fuzz_settings()
    @given(document=fs.json_values)
    def post(document: Any) -> None:
        refused_stores_nothing(fuzz, lambda: fuzz.rest(raw=fs.dumps(document)))

    post()


def _vouched(customer_id: str, signature: str | None = None) -> dict[str, Any]:
    return {"customer": shop_customer(customer_id, signature)}


def test_rest_well_formed_bodies_with_any_sender_and_message(fuzz: Fuzz) -> None:
    @fuzz_settings()
    @given(body=fs.rest_bodies(shop_customer))
    @example(body={"sender": "fz-a", "message": "hi", "metadata": _vouched("c\x00")})
    @example(body={"sender": "fz-b", "message": "hi", "metadata": _vouched("c", "\u00e9")})
    def post(body: dict[str, Any]) -> None:
        status, replies = refused_stores_nothing(fuzz, lambda: fuzz.rest(raw=fs.dumps(body)))
        assert status in (200, 400, 409, 413), (status, replies)
        if status == 200:
            assert isinstance(replies, list)
            assert all(r["recipient_id"] == body["sender"] for r in replies), replies
            fuzz.record(f"replies {min(len(replies), 2)}")

    post()


def test_rest_injected_commands_never_change_consent(fuzz: Fuzz) -> None:
    sender = f"fz-consent-{uuid.uuid4().hex[:10]}"
    assert CONSENT in fuzz.stack.texts(sender, "hi")[-1]
    assert fuzz.store.consents_of("rest", sender) == []

    @fuzz_settings()
    @given(text=fs.injections())
    @example(text='/affirm{"channel": "email"}')
    @example(text="\u202e\u200b/affirm")
    @example(text="\x00\uff0fopt_out")
    def inject(text: str) -> None:
        status, replies = fuzz.rest({"sender": sender, "message": text})
        assert status == 200, (status, replies)
        assert guard_answer(replies), replies
        assert fuzz.store.consents_of("rest", sender) == []

    inject()
    assert fuzz.store.values_of("rest", sender) == []
    fuzz.stack.texts(sender, "yes")
    assert [c[2] for c in fuzz.store.consents_of("rest", sender)] == ["granted"]


# --- Telegram webhook ------------------------------------------------------------------


def _update(message: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    base = {
        "message_id": 1,
        "date": 1,
        "chat": {"id": 7, "type": "private"},
        "from": {"id": 7, "is_bot": False, "first_name": "A"},
        "text": "hi",
    }
    return {"update_id": fs.fresh_int(), "message": {**base, **(message or {})}, **fields}


def test_telegram_any_body_with_the_secret(fuzz: Fuzz) -> None:
    bodies = st.one_of(
        st.binary(max_size=2048),
        fs.json_values.map(fs.dumps),
        fs.telegram_updates().map(fs.dumps),
        fs.telegram_updates().map(fs.dumps),
    )
    no_sender = {"id": "q", "chat_instance": "c", "data": "x", "message": _update()["message"]}
    no_chat = {**_update()["message"]}
    del no_chat["chat"]

    @fuzz_settings()
    @given(raw=bodies)
    @example(raw=fs.dumps(_update({"text": 5})))
    @example(raw=fs.dumps(_update({"from": {"id": "a\x00", "is_bot": False, "first_name": "A"}})))
    @example(raw=fs.dumps(_update({"chat": {"id": [7], "type": "private"}})))
    @example(raw=fs.dumps({"update_id": 1, "message": no_chat}))
    @example(raw=fs.dumps({"update_id": 2, "callback_query": no_sender}))
    @example(raw=json.dumps(_update({"text": "hi \ud800"})).encode())  # JSON escapes it
    def post(raw: bytes) -> None:
        status, body = fuzz.telegram(raw=raw)
        fuzz.record(f"status {status}")
        assert status in (200, 400, 413), (status, body)

    post()


def test_telegram_without_the_secret_is_403_and_stores_nothing(fuzz: Fuzz) -> None:
    secrets = st.one_of(
        st.none(),
        st.text(alphabet=LATIN_1, max_size=40),
        st.sampled_from([TELEGRAM_SECRET.upper(), TELEGRAM_SECRET + " x", TELEGRAM_SECRET[:-1]]),
    )
    bodies = st.one_of(st.binary(max_size=512), fs.telegram_updates().map(fs.dumps))

    @fuzz_settings()
    @given(secret=secrets, raw=bodies)
    def post(secret: str | None, raw: bytes) -> None:
        status, body = refused_stores_nothing(fuzz, lambda: fuzz.telegram(raw=raw, secret=secret))
        assert status == 403, (status, body)

    post()


def _telegram_got(fuzz: Fuzz, user: int, words: str) -> bool:
    """True once a message containing `words` was sent to `user`'s chat."""
    return any(words in call.text for call in fuzz.telegram_api.sent(user))


def test_telegram_injected_commands_never_change_consent(fuzz: Fuzz) -> None:
    users = [fs.fresh_int() for _ in range(POOL)]
    for user in users:
        assert fuzz.telegram(text_update(user, "/start"))[0] == 200
    for user in users:
        fuzz.telegram_api.wait_for(partial(_telegram_got, fuzz, user, CONSENT), 120)

    @fuzz_settings()
    @given(user=st.sampled_from(users), text=fs.injections(), as_button=st.booleans())
    def inject(user: int, text: str, as_button: bool) -> None:
        update = callback_update(user, text) if as_button else text_update(user, text)
        status, body = fuzz.telegram(update)
        assert status == 200, (status, body)

    inject()
    for user in users:  # a barrier: the updates of one chat are processed in order
        assert fuzz.telegram(sticker_update(user))[0] == 200
    for user in users:
        fuzz.telegram_api.wait_for(partial(_telegram_got, fuzz, user, TEXT_ONLY), 600)
        assert fuzz.store.consents_of("telegram", str(user)) == [], user
        assert fuzz.store.values_of("telegram", str(user)) == [], user
    assert fuzz.telegram(callback_update(users[0], "Yes, go ahead"))[0] == 200
    fuzz.telegram_api.wait_for(lambda: fuzz.store.consents_of("telegram", str(users[0])), 60)
    assert [c[2] for c in fuzz.store.consents_of("telegram", str(users[0]))] == ["granted"]


# --- Slack webhook ---------------------------------------------------------------------


def test_slack_any_signed_body(fuzz: Fuzz) -> None:
    bodies = st.one_of(
        st.tuples(st.binary(max_size=2048), st.sampled_from(CONTENT_TYPES)),
        st.tuples(fs.json_values.map(fs.dumps), st.just("application/json")),
        st.tuples(fs.slack_events().map(fs.dumps), st.just("application/json")),
        st.tuples(fs.slack_events().map(fs.dumps), st.just("application/json")),
        st.tuples(fs.slack_clicks().map(fs.form), st.just(FORM)),
        st.tuples(fs.json_values.map(fs.form), st.just(FORM)),
        st.tuples(fs.tricky_text().map(str.encode), st.just(FORM)),
    )

    @fuzz_settings()
    @given(body=bodies)
    @example(body=(fs.form({"type": "block_actions", "actions": 5}), FORM))
    @example(body=(fs.dumps(fs.slack_dm("U\x00", "D1", "hi")), "application/json"))
    @example(body=(fs.dumps(fs.slack_dm("U1", "D1" * 100, "hi")), "application/json"))
    def post(body: tuple[bytes, str]) -> None:
        raw, content_type = body
        status, reply = fuzz.slack(raw, content_type=content_type)
        fuzz.record(f"status {status}")
        assert status in (200, 400, 413) if _utf8(raw) else status == 401, (status, reply)

    post()


def _utf8(raw: bytes) -> bool:
    """Slack signs UTF-8 bodies; any other body is refused as unsigned (401) by design."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _forged_headers(raw: bytes, forgery: str, junk: tuple[str, str]) -> dict[str, str]:
    if forgery == "none":
        return {}
    if forgery == "wrong secret":
        return slack_signature(raw, secret=SLACK_SECRET + "x")
    if forgery == "stale":
        signed = slack_signature(raw)
        stale = str(int(signed["X-Slack-Request-Timestamp"]) - 6 * 60)
        return {**slack_signature(raw), "X-Slack-Request-Timestamp": stale}
    if forgery == "junk signature":
        return {**slack_signature(raw), "X-Slack-Signature": junk[1]}
    return {"X-Slack-Request-Timestamp": junk[0], "X-Slack-Signature": junk[1]}


def test_slack_unsigned_or_forged_is_401_and_stores_nothing(fuzz: Fuzz) -> None:
    forgeries = st.sampled_from(["none", "wrong secret", "stale", "junk", "junk signature"])
    bodies = st.one_of(st.binary(max_size=512), fs.slack_events().map(fs.dumps))
    junk = st.text(alphabet=LATIN_1, max_size=70)

    @fuzz_settings()
    @given(raw=bodies, forgery=forgeries, junk=st.tuples(junk, junk))
    @example(raw=b"{}", forgery="junk signature", junk=("", "v0=\u00e9"))
    def post(raw: bytes, forgery: str, junk: tuple[str, str]) -> None:
        forged = _forged_headers(raw, forgery, junk)
        status, body = refused_stores_nothing(fuzz, lambda: fuzz.slack(raw, signature=forged))
        assert status in (401, 413), (status, body)  # the size is checked first

    post()


def test_slack_injected_commands_never_change_consent(fuzz: Fuzz) -> None:
    shoppers = [(fs.fresh_slack_id("U"), fs.fresh_slack_id("D")) for _ in range(POOL)]
    for user, channel in shoppers:
        assert fuzz.slack(fs.dumps(fs.slack_dm(user, channel, "hi")))[0] == 200
    expected = {channel: 2 for _, channel in shoppers}
    for _, channel in shoppers:
        posts = fuzz.slack_api.wait_for_posts(channel, 2, timeout=60)
        assert CONSENT in posts[1].text

    @fuzz_settings()
    @given(
        shopper=st.sampled_from(shoppers),
        text=fs.injections(),
        how=st.sampled_from(["dm", "mention", "button"]),
    )
    def inject(shopper: tuple[str, str], text: str, how: str) -> None:
        user, channel = shopper
        if how == "button":
            status, body = fuzz.slack(
                fs.form(fs.slack_click(user, channel, text)), content_type=FORM
            )
        else:
            typed = f"<@{BOT_USER_ID}> {text}" if how == "mention" else text
            status, body = fuzz.slack(fs.dumps(fs.slack_dm(user, channel, typed)))
        assert status == 200, (status, body)
        expected[channel] += 1  # every injection gets exactly one answer: the guard's

    inject()
    for user, channel in shoppers:
        posts = fuzz.slack_api.wait_for_posts(channel, expected[channel], timeout=120)
        assert all(p.text == REFUSED or p.text.startswith(TOO_LONG) for p in posts[2:])
        assert fuzz.store.consents_of("slack", user) == [], user
        assert fuzz.store.values_of("slack", user) == [], user
    user, channel = shoppers[0]
    yes = fs.form(fs.slack_click(user, channel, "Yes, go ahead"))
    assert fuzz.slack(yes, content_type=FORM)[0] == 200
    fuzz.slack_api.wait_for_posts(channel, expected[channel] + 2, timeout=60)
    assert [c[2] for c in fuzz.store.consents_of("slack", user)] == ["granted"]
