"""The Slack channel end to end: signed webhooks into the real stack, answers via a fake Web API.

Rasa, the action server and the real slack_sdk client run as in production;
only Slack is replaced, by `tests.fakes.slack_api` on 127.0.0.1. Answers are
posted in the background, so tests wait on the fake's recorded calls. Slack
wants every answer within 3 s, so that is also how long a test waits before
concluding that no (second) answer is coming. Mentions and clicks from channels
are answered in the shopper's DM (the fake's `dm_of(user)`); the channel only
ever sees an ephemeral invitation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest

from tests.fakes.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID, Call, FakeSlackApi, dm_of
from tests.harness import Stack, http_json, start_stack

SECRET = "e2e-" + uuid.uuid4().hex
TOKEN = "xoxb-test"
ANSWER_WITHIN = 3.0
"""Seconds: Slack's deadline, and how long silence must last to count as "not answered"."""

INTRO = (
    "Hi! I'm Calmly's assistant, a bot. "
    "I can help with questions and remember how you like to hear from us."
)
REFUSED_COMMAND = "I can only read plain messages, not commands. Just tell me in your own words."
INVITATION = "I've answered you in a direct message, so what you tell me stays between us."
CONSENT = "may I ask you a couple of quick questions"
LINK_CODE = "Here's your one-time code: "
LINK_NOTICE = "Your link code was just used: this account is now linked with a web conversation."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackApi]:
    api = FakeSlackApi(token=TOKEN).start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, fake: FakeSlackApi) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("slack"),
        extra_env={
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BASE_URL": f"{fake.url}/api/",
        },
    )
    yield running
    running.stop()


# --- building and sending Slack requests ---------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """The webhook's answer to one request, and when it came (`time.monotonic()`)."""

    status: int
    body: Any
    answered_at: float
    took: float


def new_ids() -> tuple[str, str]:
    """A fresh Slack user id and DM channel id."""
    suffix = uuid.uuid4().hex[:9].upper()
    return f"U{suffix}", f"D{suffix}"


def signed(body: bytes, *, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    sent_at = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{sent_at}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": sent_at, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def deliver(stack: Stack, body: bytes, headers: dict[str, str]) -> Delivery:
    started = time.monotonic()
    status, reply = http_json(
        "POST", f"{stack.rasa_url}/webhooks/slack/webhook", raw=body, headers=headers
    )
    answered_at = time.monotonic()
    return Delivery(status, reply, answered_at, answered_at - started)


def send_event(stack: Stack, envelope: dict[str, Any], **extra_headers: str) -> Delivery:
    body = json.dumps(envelope).encode()
    return deliver(stack, body, {**signed(body), **extra_headers})


def envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """An Events API `event_callback` as Slack sends it."""
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "ARAPPORT01",
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "event": event,
    }


def message_ts() -> str:
    return f"{time.time():.6f}"


def dm(
    user: str, channel: str, text: str, *, ts: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A `message.im` event: the shopper wrote to the bot in their DM."""
    stamp = ts or message_ts()
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "channel": channel,
        "text": text,
        "ts": stamp,
        "event_ts": stamp,
        "client_msg_id": str(uuid.uuid4()),
        **fields,
    }


def mention(user: str, channel: str, text: str, *, ts: str | None = None) -> dict[str, Any]:
    """An `app_mention` event: `<@BOT> text`."""
    stamp = ts or message_ts()
    return {
        "type": "app_mention",
        "user": user,
        "channel": channel,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": stamp,
        "event_ts": stamp,
    }


def click(stack: Stack, user: str, channel: str, post: Call, title: str) -> Delivery:
    """A `block_actions` interactivity request: the shopper clicked `title` under `post`."""
    buttons = [b for b in post.buttons() if b["text"]["text"] == title]
    assert buttons, (title, [b["text"]["text"] for b in post.buttons()])
    button = buttons[0]
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "calmly"},
        "user": {"id": user, "username": "shopper", "team_id": TEAM_ID},
        "api_app_id": "ARAPPORT01",
        "container": {
            "type": "message",
            "message_ts": post.ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "channel": {"id": channel, "name": "directmessage"},
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "value": button["value"],
                "action_ts": message_ts(),
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {**signed(body), "Content-Type": "application/x-www-form-urlencoded"}
    return deliver(stack, body, headers)


# --- waiting for answers ------------------------------------------------------------------


def answers(
    fake: FakeSlackApi, channel: str, delivery: Delivery, *, after: int, count: int
) -> list[Call]:
    """The `count` posts into `channel` after the first `after`, each within 3 s of the 200."""
    assert delivery.status == 200, delivery
    assert delivery.took < ANSWER_WITHIN, delivery
    posts = fake.wait_for_posts(channel, after + count, timeout=ANSWER_WITHIN + 2)[after:]
    for post in posts:
        assert post.at - delivery.answered_at < ANSWER_WITHIN, (post.text, post.at)
        assert post.token == TOKEN
    return posts[:count]


def say(
    stack: Stack, fake: FakeSlackApi, user: str, channel: str, text: str, count: int
) -> list[Call]:
    """The shopper DMs `text`; the bot's `count` answers."""
    before = len(fake.posts(channel))
    delivery = send_event(stack, envelope(dm(user, channel, text)))
    return answers(fake, channel, delivery, after=before, count=count)


def assert_silence(fake: FakeSlackApi, channel: str, *, expected: int) -> None:
    """No post beyond `expected` arrives in `channel` within Slack's answer time."""
    more = fake.wait_for(lambda: len(fake.posts(channel)) > expected, timeout=ANSWER_WITHIN)
    assert not more, [p.text for p in fake.posts(channel)]


def person_of(stack: Stack, user: str) -> dict[str, Any]:
    identity = {"channel": "slack", "external_id": user}
    people = [p for p in stack.export() if identity in p["identities"]]
    assert len(people) == 1, people
    return people[0]


# --- channels other than the DM -----------------------------------------------------------


def in_a_channel(prefix: str = "C") -> tuple[str, str, str]:
    """A fresh shopper, their DM with the bot (as the fake opens it), a shared channel."""
    user, _ = new_ids()
    return user, dm_of(user), f"{prefix}{uuid.uuid4().hex[:9].upper()}"


def mention_in(stack: Stack, user: str, room: str, text: str) -> Delivery:
    delivery = send_event(stack, envelope(mention(user, room, text)))
    assert delivery.status == 200, delivery
    return delivery


def dm_post_starting(fake: FakeSlackApi, direct: str, start: str, *, after: int = 0) -> Call:
    """The first post into `direct` (beyond the first `after`) whose text starts with `start`."""

    def matching() -> list[Call]:
        return [p for p in fake.posts(direct)[after:] if p.text.startswith(start)]

    found = fake.wait_for(lambda: bool(matching()), timeout=ANSWER_WITHIN + 2)
    assert found, [p.text for p in fake.posts(direct)]
    return matching()[0]


def assert_only_invitations(fake: FakeSlackApi, room: str, user: str, *, count: int) -> None:
    """`room` got `count` ephemeral invitations to `user`, and nothing else, ever."""
    assert fake.wait_for(lambda: len(fake.ephemerals(room)) >= count, timeout=ANSWER_WITHIN)
    assert_silence(fake, room, expected=0)
    calls = fake.calls(channel=room)
    assert [(c.method, c.user, c.text) for c in calls] == [
        ("chat.postEphemeral", user, INVITATION)
    ] * count


def only_in(fake: FakeSlackApi, secret: str) -> set[str | None]:
    """The channels of every call that carried `secret`."""
    return {c.channel for c in fake.calls() if secret in json.dumps(c.params)}


# --- the tests ----------------------------------------------------------------------------


def test_url_verification_answers_the_challenge(stack: Stack) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "x", "challenge": challenge, "type": "url_verification"}).encode()
    delivery = deliver(stack, body, signed(body))
    assert delivery.status == 200
    assert delivery.body == {"challenge": challenge}


def test_unsigned_forged_or_stale_requests_are_refused_and_never_answered(
    stack: Stack, fake: FakeSlackApi
) -> None:
    user, channel = new_ids()
    event_id = f"Ev{uuid.uuid4().hex[:10].upper()}"
    body = json.dumps(envelope(dm(user, channel, "hi"), event_id)).encode()
    refused = [
        deliver(stack, body, {}),
        deliver(stack, body, signed(body, secret="not-the-secret")),
        deliver(stack, body, {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64}),
        deliver(stack, body, signed(body, timestamp=int(time.time()) - 6 * 60)),
        deliver(stack, body + b" ", signed(body)),
    ]
    assert [d.status for d in refused] == [401] * len(refused)
    assert_silence(fake, channel, expected=0)
    # Nothing was recorded either: the genuine delivery of that event is answered.
    genuine = deliver(stack, body, signed(body))
    posts = answers(fake, channel, genuine, after=0, count=2)
    assert posts[0].text == INTRO


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"type": "event_callback", "event": ', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        (b"nothing=here", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_bodies_are_400(stack: Stack, body: bytes, content_type: str) -> None:
    delivery = deliver(stack, body, {**signed(body), "Content-Type": content_type})
    assert delivery.status == 400, delivery


def test_an_oversized_body_is_413(stack: Stack, fake: FakeSlackApi) -> None:
    user, channel = new_ids()
    event = envelope(dm(user, channel, "hi", padding="x" * (64 * 1024)))
    delivery = send_event(stack, event)
    assert delivery.status == 413
    assert_silence(fake, channel, expected=0)


def test_a_replayed_event_and_a_retry_are_answered_once(stack: Stack, fake: FakeSlackApi) -> None:
    user, channel = new_ids()
    event = envelope(dm(user, channel, "hello"))
    first = send_event(stack, event)
    replay = send_event(stack, event)
    retry = send_event(
        stack, event, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert [d.status for d in (first, replay, retry)] == [200, 200, 200]
    posts = answers(fake, channel, first, after=0, count=2)
    assert posts[0].text == INTRO
    assert_silence(fake, channel, expected=2)


def test_a_dm_arriving_as_message_and_app_mention_is_answered_once(
    stack: Stack, fake: FakeSlackApi
) -> None:
    user, channel = new_ids()
    ts = message_ts()
    as_message = dm(user, channel, f"<@{BOT_USER_ID}> hi", ts=ts)
    as_mention = mention(user, channel, "hi", ts=ts)
    first = send_event(stack, envelope(as_message))
    second = send_event(stack, envelope(as_mention))
    assert second.status == 200
    posts = answers(fake, channel, first, after=0, count=2)
    assert posts[0].text == INTRO
    assert_silence(fake, channel, expected=2)


def test_the_bots_own_and_other_non_shopper_messages_are_ignored(
    stack: Stack, fake: FakeSlackApi
) -> None:
    user, channel = new_ids()
    ignored = [
        dm(BOT_USER_ID, channel, "hi", bot_id=BOT_ID),
        dm(user, channel, "hi", bot_id="BOTHERBOT1"),
        dm(BOT_USER_ID, channel, "hi"),
        dm(user, channel, "hi", subtype="message_changed"),
        dm(user, channel, "hi", subtype="bot_message"),
        {**dm(user, channel, "hi"), "channel_type": "channel"},
        {"type": "reaction_added", "user": user, "reaction": "thumbsup"},
    ]
    for event in ignored:
        assert send_event(stack, envelope(event)).status == 200
    assert_silence(fake, channel, expected=0)
    assert not any(
        {"channel": "slack", "external_id": user} in p["identities"] for p in stack.export()
    )


@pytest.mark.parametrize("prefix", ["C", "G"])
def test_a_mention_in_a_channel_gets_an_invitation_there_and_the_answer_in_the_dm(
    stack: Stack, fake: FakeSlackApi, prefix: str
) -> None:
    user, direct, room = in_a_channel(prefix)
    delivery = mention_in(stack, user, room, "hello")
    hello = answers(fake, direct, delivery, after=0, count=2)
    assert hello[0].text == INTRO
    assert CONSENT in hello[1].text
    assert [c.user for c in fake.opened(user)] == [user]
    [invitation] = fake.ephemerals(room)
    assert invitation.at - delivery.answered_at < ANSWER_WITHIN
    assert_only_invitations(fake, room, user, count=1)

    # The conversation goes on in the DM: the consent question answered there is recorded.
    granted = say(stack, fake, user, direct, "yes", count=2)
    assert granted[0].text == "Thank you! Here's the first one."
    assert person_of(stack, user)["consents"]["current"]["profiling"]["status"] == "granted"
    assert_only_invitations(fake, room, user, count=1)


def test_link_my_accounts_in_a_channel_sends_the_code_only_to_the_dm(
    stack: Stack, fake: FakeSlackApi
) -> None:
    user, direct, room = in_a_channel()
    mention_in(stack, user, room, "hi")
    dm_post_starting(fake, direct, INTRO)
    mention_in(stack, user, room, "link my accounts")
    issued = dm_post_starting(fake, direct, LINK_CODE)
    code = issued.text.split(LINK_CODE)[1].split(".")[0]
    assert code and only_in(fake, code) == {direct}
    assert_only_invitations(fake, room, user, count=2)

    # The code used elsewhere: Rasa's API tells the Slack shopper, in their DM.
    web = f"web-{uuid.uuid4().hex[:8]}"
    assert stack.texts(web, f"link {code}")[0].startswith("Done: your accounts are linked.")
    notice = dm_post_starting(fake, direct, LINK_NOTICE)
    assert [b["text"]["text"] for b in notice.buttons()] == ["Yes, that was me", "No, undo it"]
    assert only_in(fake, LINK_NOTICE) == {direct}
    assert_only_invitations(fake, room, user, count=2)


def test_export_my_data_in_a_channel_is_answered_only_in_the_dm(
    stack: Stack, fake: FakeSlackApi
) -> None:
    user, direct, room = in_a_channel()
    mention_in(stack, user, room, "hi")
    dm_post_starting(fake, direct, INTRO)
    say(stack, fake, user, direct, "yes", count=2)
    say(stack, fake, user, direct, "text me, email is too much", count=2)
    before = len(fake.posts(direct))
    mention_in(stack, user, room, "export my data")
    export = dm_post_starting(fake, direct, "Your data is ready", after=before)
    url = export.text.split(": ", 1)[1].split()[0]
    assert url.startswith(f"{stack.web_url}/export/")
    assert only_in(fake, url) == {direct}
    assert_only_invitations(fake, room, user, count=2)


def test_a_click_under_a_channel_message_is_answered_in_the_dm(
    stack: Stack, fake: FakeSlackApi
) -> None:
    user, direct, room = in_a_channel()
    hello = say(stack, fake, user, direct, "hi", count=2)
    assert CONSENT in hello[1].text
    # A payload naming a channel (an old message there, or a crafted one).
    clicked = click(stack, user, room, hello[1], "Yes, go ahead")
    granted = answers(fake, direct, clicked, after=2, count=2)
    assert granted[0].text == "Thank you! Here's the first one."
    assert granted[1].text.startswith("How would you like to hear from us?")
    assert_only_invitations(fake, room, user, count=1)
    assert person_of(stack, user)["consents"]["current"]["profiling"]["status"] == "granted"


def test_a_full_profiling_conversation_over_dms(stack: Stack, fake: FakeSlackApi) -> None:
    user, channel = new_ids()
    hello = say(stack, fake, user, channel, "hi", count=2)
    assert hello[0].text == INTRO
    assert hello[0].blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": INTRO}}]
    consent = hello[1]
    assert "may I ask you a couple of quick questions" in consent.text
    assert consent.blocks[0]["type"] == "section"
    assert consent.blocks[0]["text"]["type"] == "mrkdwn"
    assert [(b["text"]["text"], b["value"]) for b in consent.buttons()] == [
        ("Yes, go ahead", "Yes, go ahead"),
        ("No thanks", "No thanks"),
    ]
    action_ids = [b["action_id"] for b in consent.buttons()]
    assert len(set(action_ids)) == len(action_ids)

    clicked = click(stack, user, channel, consent, "Yes, go ahead")
    granted = answers(fake, channel, clicked, after=2, count=2)
    assert granted[0].text == "Thank you! Here's the first one."
    assert granted[1].text.startswith("How would you like to hear from us?")
    assert [b["value"] for b in granted[1].buttons()][:2] == ["email", "SMS"]

    reply = say(stack, fake, user, channel, "text me, email is too much", count=2)
    assert reply[0].text == "Got it: SMS, not email."
    assert "offers and news by SMS?" in reply[1].text  # marketing: asked separately
    declined = click(stack, user, channel, reply[1], "No thanks")
    reply = answers(fake, channel, declined, after=6, count=2)
    assert reply[0].text == "No problem: no offers or news by SMS."
    assert reply[1].text.startswith("How often")

    unsure = say(stack, fake, user, channel, "often I guess", count=1)
    assert unsure[0].text == "Just to be sure: did you mean daily or weekly?"
    clicked = click(stack, user, channel, unsure[0], "Weekly")
    chosen = answers(fake, channel, clicked, after=9, count=2)
    assert chosen[0].text == "Got it: weekly."
    assert chosen[1].text.startswith("What brings you to us?")

    person = person_of(stack, user)
    value = person["attributes"]["contact_channels"]
    assert value["value"] == {"selected": ["sms"], "excluded": ["email"]}
    assert value["channel"] == "slack"
    assert person["attributes"]["contact_frequency"]["value"] == "weekly"
    assert person["consents"]["current"]["profiling"]["status"] == "granted"


def test_a_typed_intent_command_gets_the_guards_refusal(stack: Stack, fake: FakeSlackApi) -> None:
    user, channel = new_ids()
    say(stack, fake, user, channel, "hi", count=2)
    refusal = say(stack, fake, user, channel, "/affirm", count=1)
    assert refusal[0].text == REFUSED_COMMAND
    assert_silence(fake, channel, expected=3)
    person = person_of(stack, user)
    assert person["consents"]["ledger"] == []
    assert person["attributes"] == {}


def test_markup_is_escaped_for_slack_and_stored_as_typed(stack: Stack, fake: FakeSlackApi) -> None:
    user, channel = new_ids()
    say(stack, fake, user, channel, "hi", count=2)
    say(stack, fake, user, channel, "yes", count=2)
    say(stack, fake, user, channel, "skip", count=2)
    say(stack, fake, user, channel, "skip", count=2)
    words = "<i>sleeping better</i> after night shifts & overtime"
    # Slack delivers typed `&<>` escaped.
    escaped = words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    reply = say(stack, fake, user, channel, escaped, count=2)
    expected = f'Got it: "{escaped}" (in your words).'
    assert reply[0].text == expected
    assert reply[0].blocks[0]["text"]["text"] == expected
    value = person_of(stack, user)["attributes"]["motivations"]["value"]
    assert value == {"selected": ["other"], "other_text": words}


def test_without_a_bot_token_the_webhook_is_404_and_rasa_runs(tmp_path: Path) -> None:
    bare = start_stack(tmp_path, extra_env={"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": ""})
    try:
        body = json.dumps({"type": "url_verification", "challenge": "c"}).encode()
        delivery = deliver(bare, body, signed(body))
        assert delivery.status == 404
        assert delivery.body == {"error": "slack channel is not configured"}
        assert bare.texts(f"shopper-{uuid.uuid4().hex[:8]}", "hi")[0] == INTRO
    finally:
        bare.stop()
