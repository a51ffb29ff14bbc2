"""Hypothesis strategies for what arrives over HTTP: bodies, shopper texts, updates, events, orders.

Texts mix hypothesis' full (surrogate-free) unicode with the characters that have
meaning somewhere on the way: NUL, bidi overrides, zero-width and other invisible
characters, look-alike slashes, JSON and Slack markup. Ids of platform users are
mostly fresh (a counter), so answers are not queued behind Telegram's per-chat rate
limit, and sometimes any JSON value, to check the shapes are validated.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlencode

from hypothesis import strategies as st

from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID
from tests.fakes.telegram_api import callback_update, edited_update, group_chat, text_update

INTENTS = [
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "skip",
    "why",
    "opt_out",
    "inform",
    "help",
    "link_accounts",
    "unlink_accounts",
    "start",
    "restart",
    "session_start",
    "nlu_fallback",
    "back",
]
ENTITIES = ["channel", "device", "frequency", "time_of_day", "motivation"]
SLASHES = ["/", "\uff0f", "\u2215", "\u2044", "\u29f8"]
INVISIBLE = [
    " ",
    "\t",
    "\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x85",
    "\xa0",
    "\u3000",
    "\u2028",
    "\x00",
    "\x1f",
    "\x7f",
    "\u00ad",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u2060",
    "\ufeff",
    "\u202a",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
"""Characters a leading slash can hide behind (all skipped by the guard)."""
TRICKY = [
    *INVISIBLE,
    *SLASHES,
    "{",
    "}",
    "[",
    '"',
    "\\",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "@",
    "|",
    "*",
    "_",
    "~",
    "`",
    ":",
    "%",
    "e\u0301",
    "\U0001d4b3",
    "\U0001f642",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "\U0010ffff",
    "\ufffd",
    "\u0000/",
    "<@UBOTRAPPORT>",
    "<mailto:a@b.co|a@b.co>",
]
PHRASES = [
    "hi",
    "hello",
    "yes",
    "Yes, go ahead",
    "No thanks",
    "no",
    "skip",
    "why do you ask?",
    "stop",
    "unsubscribe",
    "email please",
    "text me, email is too much",
    "weekly",
    "often I guess",
    "no, weekly",
    "in the app",
    "stress and focus",
    "link my accounts",
    "unlink my accounts",
    "123456",
    "a gift",
    "for me",
]
"""Things shoppers really say: they move a conversation into its deeper states."""

_fresh = itertools.count(random.SystemRandom().randint(10**9, 2 * 10**9))


def fresh_int() -> int:
    """A platform user id not used before in this run."""
    return next(_fresh)


def fresh_slack_id(prefix: str = "U") -> str:
    """A Slack-shaped id not used before in this run."""
    return f"{prefix}FZ{fresh_int():X}"


# --- building blocks -------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
    ),
    max_leaves=12,
)
"""Any JSON document (numbers finite: JSON has no NaN)."""


def tricky_text(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """Unicode text (no surrogates) with the characters that matter here mixed in."""
    piece = st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(TRICKY))
    return st.lists(piece, min_size=min_size, max_size=max_size).map("".join)


def long_text() -> st.SearchStrategy[str]:
    """Texts up to ~20,000 characters, and texts right around the 2,000-character limit."""
    repeated = st.builds(lambda unit, times: unit * times, tricky_text(1, 8), st.integers(1, 2500))
    exact = st.builds(lambda unit, n: (unit * n)[:n], tricky_text(1, 4), st.integers(1990, 2010))
    return st.one_of(repeated, exact)


def _join(*parts: str) -> str:
    return "".join(parts)


INIT_PAYLOAD = "/greet"
"""The one command the guard lets through (a chat widget's opening, as a greeting)."""


def _not_the_init_payload(text: str) -> bool:
    return text.replace("\x00", "").strip() != INIT_PAYLOAD


def commands() -> st.SearchStrategy[str]:
    """Rasa's `/intent@confidence{entities}` shape, with look-alike slashes and junk.

    Never the widget's opening payload itself: that one is let through on purpose.
    """
    entities = st.dictionaries(
        st.one_of(st.sampled_from(ENTITIES), st.text(max_size=8)), json_values, max_size=3
    ).map(json.dumps)
    return st.builds(
        _join,
        st.sampled_from(SLASHES),
        st.one_of(st.sampled_from(INTENTS), tricky_text(1, 15)),
        st.sampled_from(["", "@1", "@0.99", "@1.0e5", "@"]),
        st.one_of(st.just(""), entities, tricky_text(0, 10)),
        st.one_of(st.just(""), tricky_text(0, 10)),
    ).filter(_not_the_init_payload)


def injections() -> st.SearchStrategy[str]:
    """A command behind invisible, bidi or whitespace characters: the guard must refuse it."""
    prefix = st.lists(st.sampled_from(INVISIBLE), max_size=4).map("".join)
    return st.builds(_join, prefix, commands()).filter(_not_the_init_payload)


def messages() -> st.SearchStrategy[str]:
    """Any shopper text: real phrases (alone or with junk), noise, commands, long texts."""
    phrase = st.sampled_from(PHRASES)
    return st.one_of(
        phrase,
        st.builds(_join, phrase, tricky_text(0, 10)),
        tricky_text(0, 60),
        st.text(max_size=200),
        commands(),
        injections(),
        long_text(),
    )


SENDER_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~!$&'()*+,;=:@-"
"""What a REST sender may be made of (ids Rasa's API can name)."""


def senders() -> st.SearchStrategy[str]:
    """REST senders: mostly usable ones, and anything (control characters, blanks, long)."""
    usable = st.text(alphabet=SENDER_ALPHABET, max_size=40).map(lambda s: f"fz-{s}")
    return st.one_of(
        usable,
        usable,
        usable,
        tricky_text(0, 30),
        st.text(max_size=200),
        st.sampled_from(["", " ", "default", "\x00", "a\x00b", "x" * 128, "x" * 129]),
    )


def dumps(value: Any) -> bytes:
    """`value` as a JSON body, UTF-8 (non-ASCII unescaped, as most clients send it)."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _or_any(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`strategy` most of the time, any JSON value sometimes (a type confusion)."""
    return st.one_of(strategy, strategy, strategy, json_values)


# --- REST ------------------------------------------------------------------------------


CUSTOMERS = ["fz-c1", "fz-c2", "fz-c3"]
"""Shop customers the order strategies also use: chats vouched for them meet their orders."""


def customer_metadata(vouch: Callable[[str], dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Metadata with a shop-vouched customer: correctly signed random ids, or forgeries."""
    customer_id = st.one_of(st.sampled_from(CUSTOMERS), tricky_text(0, 40), st.text(max_size=140))
    signed = customer_id.map(lambda cid: {"customer": vouch(cid)})
    forged = st.fixed_dictionaries(
        {
            "customer": _or_any(
                st.fixed_dictionaries(
                    {"id": json_values, "signature": json_values},
                    optional={"expires": st.one_of(st.integers(), json_values)},
                )
            )
        }
    )
    return st.one_of(signed, forged, json_values)


def rest_bodies(vouch: Callable[[str], dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed REST webhook bodies: any sender, any message, sometimes metadata."""
    return st.fixed_dictionaries(
        {"sender": senders(), "message": _or_any(messages())},
        optional={
            "metadata": customer_metadata(vouch),
            "input_channel": st.one_of(st.sampled_from(["telegram", "slack", "shop"]), json_values),
            "message_id": json_values,
        },
    )


# --- Telegram --------------------------------------------------------------------------


def telegram_ids() -> st.SearchStrategy[Any]:
    return st.one_of(st.builds(fresh_int), st.builds(fresh_int), st.integers(), json_values)


def telegram_user(user_id: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"id": user_id, "is_bot": _or_any(st.just(False)), "first_name": _or_any(tricky_text())},
        optional={"username": tricky_text(), "language_code": json_values},
    )


def telegram_message(user_id: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    chat_type = _or_any(st.sampled_from(["private", "private", "group", "supergroup", "channel"]))
    return st.fixed_dictionaries(
        {
            "message_id": _or_any(st.integers(1, 10**9)),
            "date": _or_any(st.integers(0, 2**31)),
            "chat": st.fixed_dictionaries({"id": user_id, "type": chat_type}),
            "from": telegram_user(user_id),
        },
        optional={
            "text": _or_any(messages()),
            "entities": json_values,
            "sticker": json_values,
            "photo": json_values,
            "edit_date": json_values,
        },
    )


def telegram_updates() -> st.SearchStrategy[dict[str, Any]]:
    """Updates as Telegram sends them (texts, presses, groups), and Update-like JSON whose
    fields may have any type."""
    user = st.builds(fresh_int)
    group = st.builds(lambda: group_chat(-fresh_int()))
    return st.one_of(
        st.builds(text_update, user, messages()),
        st.builds(callback_update, user, messages()),
        st.builds(text_update, user, messages(), group),
        st.builds(edited_update, user, messages()),
        telegram_ids().flatmap(_telegram_update),
        telegram_ids().flatmap(_telegram_update),
    )


def _telegram_update(user_id: Any) -> st.SearchStrategy[dict[str, Any]]:
    same = st.just(user_id)
    query = st.fixed_dictionaries(
        {
            "id": _or_any(tricky_text(1, 10)),
            "from": telegram_user(same),
            "chat_instance": _or_any(tricky_text()),
        },
        optional={"message": telegram_message(same), "data": _or_any(messages())},
    )
    return st.fixed_dictionaries(
        {"update_id": _or_any(st.integers(0, 2**31))},
        optional={
            "message": telegram_message(same),
            "edited_message": telegram_message(same),
            "callback_query": query,
        },
    )


# --- Slack -----------------------------------------------------------------------------


def slack_ids(prefix: str) -> st.SearchStrategy[Any]:
    fresh = st.builds(fresh_slack_id, st.just(prefix))
    return st.one_of(fresh, fresh, fresh, tricky_text(0, 30), json_values)


def slack_stamps() -> st.SearchStrategy[Any]:
    return _or_any(st.one_of(st.builds(slack_ts), tricky_text(0, 20)))


def slack_events() -> st.SearchStrategy[dict[str, Any]]:
    """Events API envelopes: DMs and mentions as Slack sends them, and envelopes whose
    fields may have any type."""
    user, channel = st.builds(fresh_slack_id, st.just("U")), st.builds(fresh_slack_id, st.just("D"))
    mentions = messages().map(lambda text: f"<@{BOT_USER_ID}> {text}")
    return st.one_of(
        st.builds(slack_dm, user, channel, messages()),
        st.builds(slack_dm, user, channel, mentions),
        st.builds(slack_dm, user, channel, messages(), st.just("app_mention")),
        _any_slack_events(),
        _any_slack_events(),
    )


def _any_slack_events() -> st.SearchStrategy[dict[str, Any]]:
    event = st.fixed_dictionaries(
        {
            "type": _or_any(st.sampled_from(["message", "app_mention", "reaction_added"])),
            "user": slack_ids("U"),
            "channel": slack_ids("D"),
            "text": _or_any(messages()),
            "ts": slack_stamps(),
        },
        optional={
            "channel_type": _or_any(st.sampled_from(["im", "channel", "group"])),
            "subtype": json_values,
            "bot_id": json_values,
            "event_ts": json_values,
            "client_msg_id": json_values,
        },
    )
    authorizations = _or_any(
        st.lists(st.fixed_dictionaries({"user_id": _or_any(st.just("UBOTRAPPORT"))}), max_size=2)
    )
    return st.fixed_dictionaries(
        {
            "type": _or_any(st.sampled_from(["event_callback", "url_verification"])),
            "event": _or_any(event),
        },
        optional={
            "event_id": _or_any(st.builds(lambda: fresh_slack_id("Ev"))),
            "authorizations": authorizations,
            "challenge": json_values,
            "team_id": json_values,
        },
    )


def slack_clicks() -> st.SearchStrategy[dict[str, Any]]:
    """`block_actions` payloads: clicks on our buttons with any value, and payloads whose
    fields may have any type."""
    user, channel = st.builds(fresh_slack_id, st.just("U")), st.builds(fresh_slack_id, st.just("D"))
    return st.one_of(st.builds(slack_click, user, channel, messages()), _any_slack_clicks())


def _any_slack_clicks() -> st.SearchStrategy[dict[str, Any]]:
    action = st.fixed_dictionaries(
        {
            "type": _or_any(st.just("button")),
            "action_id": _or_any(st.sampled_from(["rapport_choice_0", "rapport_choice_1", "x"])),
            "value": _or_any(messages()),
        },
        optional={"action_ts": slack_stamps(), "block_id": json_values},
    )
    return st.fixed_dictionaries(
        {
            "type": _or_any(st.just("block_actions")),
            "user": _or_any(st.fixed_dictionaries({"id": slack_ids("U")})),
            "actions": _or_any(st.lists(_or_any(action), max_size=3)),
        },
        optional={
            "channel": _or_any(st.fixed_dictionaries({"id": slack_ids("D")})),
            "container": _or_any(
                st.fixed_dictionaries({"message_ts": slack_stamps(), "channel_id": slack_ids("D")})
            ),
        },
    )


_stamps = itertools.count(1)


def slack_ts() -> str:
    """A fresh Slack message timestamp (`seconds.sequence`)."""
    return f"{int(time.time())}.{next(_stamps):06d}"


def slack_dm(user: str, channel: str, text: str, kind: str = "message") -> dict[str, Any]:
    """An `event_callback` envelope: `user` wrote `text` in their DM `channel` with the bot."""
    stamp = slack_ts()
    return {
        "type": "event_callback",
        "team_id": TEAM_ID,
        "event_id": fresh_slack_id("Ev"),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": {
            "type": kind,
            "channel_type": "im",
            "user": user,
            "channel": channel,
            "text": text,
            "ts": stamp,
            "event_ts": stamp,
        },
    }


def slack_click(user: str, channel: str, value: str) -> dict[str, Any]:
    """A `block_actions` payload: `user` clicked one of our buttons carrying `value`."""
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM_ID},
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": slack_ts(), "channel_id": channel},
        "actions": [
            {
                "type": "button",
                "action_id": "rapport_choice_0",
                "value": value,
                "action_ts": slack_ts(),
            }
        ],
    }


def form(payload: Any) -> bytes:
    """An interactivity body: `payload=<JSON>`, form-encoded."""
    return urlencode({"payload": json.dumps(payload)}).encode()


# --- orders ----------------------------------------------------------------------------

offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60 - 59, 23 * 60 + 59)
)
moments = st.one_of(
    st.datetimes(timezones=offsets).map(datetime.isoformat),
    st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()),
    st.datetimes().map(datetime.isoformat),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00",
            "2026-01-10T10:00:00Z",
            "2026-02-30T10:00:00Z",
            "yesterday",
            "",
        ]
    ),
    st.integers(),
    st.floats(allow_nan=False),
)
prices = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.sampled_from(["49.00", "0", "-1", "1e400", "9999999999.99", "10000000000.00", "1.001"]),
    st.integers(),
    st.floats(allow_nan=False),
)
categories = st.one_of(
    st.sampled_from(["apparel/menswear/shirts", "apparel/womenswear/dresses", "home/kitchen"]),
    st.sampled_from(["apparel/menswear/trousers", "/x", " x", "x/", "x//y"]),
    st.builds(
        lambda parts: "/".join(parts),
        st.lists(tricky_text(1, 10), min_size=1, max_size=4),
    ),
    tricky_text(0, 30),
)


def order_items() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "sku": _or_any(tricky_text(0, 70)),
            "name": _or_any(tricky_text(0, 60)),
            "category": _or_any(categories),
        },
        optional={
            "price": _or_any(prices),
            "quantity": _or_any(st.integers()),
            "colour": json_values,
        },
    )


def well_typed_orders() -> st.SearchStrategy[dict[str, Any]]:
    """Orders of the right shape whose texts, times, prices and quantities are fuzzed."""
    item = st.fixed_dictionaries(
        {
            "sku": tricky_text(1, 64),
            "name": st.one_of(st.sampled_from(["Oxford Shirt", "Wrap Dress"]), tricky_text(1, 60)),
            "category": categories,
        },
        optional={
            "price": st.one_of(st.none(), st.decimals(0, 10**9, places=2).map(str)),
            "quantity": st.integers(1, 100000),
        },
    )
    return st.fixed_dictionaries(
        {
            "order_id": st.one_of(st.builds(lambda: f"fz-{uuid.uuid4().hex}"), tricky_text(1, 64)),
            "customer_id": st.one_of(st.sampled_from(CUSTOMERS), tricky_text(1, 128)),
            "ordered_at": st.datetimes(timezones=offsets).map(datetime.isoformat),
            "items": st.lists(item, min_size=1, max_size=4),
        }
    )


def orders() -> st.SearchStrategy[dict[str, Any]]:
    """Order-like objects: well-typed ones, and ones whose fields may be missing or any type."""
    return st.one_of(well_typed_orders(), well_typed_orders(), _any_orders())


def _any_orders() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "order_id": _or_any(tricky_text(0, 70)),
            "customer_id": _or_any(tricky_text(0, 130)),
            "ordered_at": moments,
            "items": _or_any(st.lists(order_items(), max_size=4)),
        },
        optional={"coupon": json_values},
    )


def order_bodies() -> st.SearchStrategy[Any]:
    """One order, or a batch `{"orders": [...]}`."""
    batch = st.fixed_dictionaries({"orders": st.lists(orders(), max_size=4)})
    return st.one_of(orders(), orders(), batch)


def authorizations(valid: str) -> st.SearchStrategy[str]:
    """Authorization header values: schemes, near-misses of the valid token, noise.

    Only Latin-1 without CR/LF: what an HTTP client can put in a header at all.
    """
    latin = st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=80,
    )
    scheme = st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "Token", "", "Bearer\t"])
    misses = [valid[:-1], valid + "x", valid.upper(), f" {valid}x", valid[::-1], "x" + valid[1:]]
    near = st.sampled_from([m for m in misses if m.strip() != valid] or ["x"])
    return st.one_of(
        latin,
        st.builds(lambda s, t: f"{s} {t}", scheme, st.one_of(latin, near)),
    )
