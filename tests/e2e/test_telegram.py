"""The Telegram channel end to end: real Rasa + actions, real PTB, a fake Bot API on 127.0.0.1.

Updates are POSTed to the webhook the way Telegram does; the bot's answers are read
from the fake Bot API's records. Processing runs in the background, so every check
waits (bounded) for a condition, and "nothing was sent" is checked behind a barrier:
a later message in the same private chat (updates of one chat are processed in order)
whose answer is known.
"""

from __future__ import annotations

import itertools
import json
import random
from types import SimpleNamespace
from typing import Any, Iterator

import pytest

from tests.fakes.telegram_api import (
    FakeTelegramApi,
    callback_update,
    edited_update,
    group_chat,
    sticker_update,
    text_update,
)
from tests.harness import Stack, http_json, start_stack

SECRET = "s3cret"
TOKEN = "123:TEST"
INTRO = (
    "Hi! I'm Calmly's assistant, a bot. "
    "I can help with questions and remember how you like to hear from us."
)
CONSENT = (
    "To make our messages fit you better, may I ask you a couple of quick questions? "
    "You can skip any of them."
)
REFUSED = "I can only read plain messages, not commands. Just tell me in your own words."
TEXT_ONLY = "Sorry, I can only read text for now."
_users = itertools.count(random.randint(10**8, 9 * 10**8))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegramApi]:
    with FakeTelegramApi(TOKEN) as api:
        yield api


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, fake: FakeTelegramApi) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("telegram"),
        extra_env={
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_SECRET_TOKEN": SECRET,
            "TELEGRAM_BASE_URL": fake.base_url,
        },
    )
    yield running
    running.stop()


def shopper() -> int:
    return next(_users)


def post(
    stack: Stack, update: Any = None, *, secret: str | None = SECRET, raw: bytes | None = None
) -> tuple[int, Any]:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    url = f"{stack.rasa_url}/webhooks/telegram/webhook"
    return http_json("POST", url, update, headers=headers, raw=raw)


def deliver(stack: Stack, update: dict[str, Any]) -> None:
    status, body = post(stack, update)
    assert status == 200, (status, body)


def texts(fake: FakeTelegramApi, user: int) -> list[str]:
    return [c.text for c in fake.sent(user)]


def turn(
    stack: Stack, fake: FakeTelegramApi, user: int, update: dict[str, Any], last: str
) -> list[str]:
    """Deliver `update`; the messages it got, once one starting with `last` arrived."""
    before = len(fake.sent(user))
    deliver(stack, update)

    def answered() -> list[str] | None:
        new = texts(fake, user)[before:]
        return new if any(t.startswith(last) for t in new) else None

    return fake.wait_for(answered)


def settle(stack: Stack, fake: FakeTelegramApi, user: int) -> list[str]:
    """Everything sent to `user`'s chat, once updates delivered before now were processed."""
    turn(stack, fake, user, text_update(user, "/help"), REFUSED)
    return texts(fake, user)


def person_of(stack: Stack, user: int) -> dict[str, Any] | None:
    identity = {"channel": "telegram", "external_id": str(user)}
    people = [p for p in stack.export() if identity in p["identities"]]
    assert len(people) <= 1, people
    return people[0] if people else None


def test_wrong_or_missing_secret_is_refused_and_nothing_is_processed(
    stack: Stack, fake: FakeTelegramApi
) -> None:
    user = shopper()
    for secret in ["wrong", "S3CRET", "", None]:
        status, _ = post(stack, text_update(user, "hi"), secret=secret)
        assert status == 403, secret
    assert settle(stack, fake, user) == [REFUSED]


def test_the_same_update_delivered_three_times_is_answered_once(
    stack: Stack, fake: FakeTelegramApi
) -> None:
    user = shopper()
    update = text_update(user, "hi")
    for _ in range(3):
        deliver(stack, update)
    assert settle(stack, fake, user) == [INTRO, CONSENT, REFUSED]


def test_a_full_profiling_conversation_over_telegram(stack: Stack, fake: FakeTelegramApi) -> None:
    user = shopper()
    assert turn(stack, fake, user, text_update(user, "/start"), CONSENT) == [INTRO, CONSENT]
    consent = fake.sent(user)[-1]
    assert consent.button_data() == ["Yes, go ahead", "No thanks"]

    press = callback_update(user, "Yes, go ahead")
    first = turn(stack, fake, user, press, "How would you like to hear from us?")
    assert first[0] == "Thank you! Here's the first one."
    answered = [c.params for c in fake.calls("answerCallbackQuery")]
    assert {"callback_query_id": press["callback_query"]["id"]} in answered
    assert "SMS" in fake.sent(user)[-1].button_data()

    said = text_update(user, "text me, email is too much")
    channels = turn(stack, fake, user, said, "One more thing")
    assert channels[0] == "Got it: SMS, not email."
    assert fake.sent(user)[-1].button_data() == ["Yes, go ahead", "No thanks"]
    declined = turn(stack, fake, user, callback_update(user, "No thanks"), "How often")
    assert declined[0] == "No problem: no offers or news by SMS."
    frequency = fake.sent(user)[-1]
    assert frequency.button_data() == [
        "daily",
        "weekly",
        "monthly",
        "only for important things",
        "Skip",
    ]

    weekly = turn(stack, fake, user, callback_update(user, "weekly"), "What brings you to us?")
    assert weekly[0] == "Got it: weekly."

    person = person_of(stack, user)
    assert person is not None
    attributes = person["attributes"]
    assert attributes["contact_channels"]["value"] == {"selected": ["sms"], "excluded": ["email"]}
    assert attributes["contact_frequency"]["value"] == "weekly"
    assert all(a["channel"] == "telegram" for a in attributes.values())
    assert person["consents"]["current"]["profiling"]["status"] == "granted"


def test_group_messages_are_ignored(stack: Stack, fake: FakeTelegramApi) -> None:
    user, group = shopper(), -1001234567890
    deliver(stack, text_update(user, "hi", chat=group_chat(group)))
    deliver(stack, text_update(user, "/start", chat=group_chat(group)))
    assert settle(stack, fake, user) == [REFUSED]
    assert fake.sent(group) == []


def test_a_sticker_gets_the_text_only_answer(stack: Stack, fake: FakeTelegramApi) -> None:
    user = shopper()
    assert turn(stack, fake, user, sticker_update(user), TEXT_ONLY) == [TEXT_ONLY]
    assert settle(stack, fake, user) == [TEXT_ONLY, REFUSED]


def test_typed_intent_commands_are_refused_and_grant_nothing(
    stack: Stack, fake: FakeTelegramApi
) -> None:
    user = shopper()
    hello = turn(stack, fake, user, text_update(user, "/start@calmly_test_bot"), CONSENT)
    assert hello == [INTRO, CONSENT]
    for command in ["/affirm", '/inform{"channel": "email"}', "/start now"]:
        assert turn(stack, fake, user, text_update(user, command), REFUSED) == [REFUSED]
    person = person_of(stack, user)
    assert person is None or person["consents"].get("current", {}).get("profiling") is None


def test_an_edited_message_is_not_processed_again(stack: Stack, fake: FakeTelegramApi) -> None:
    user = shopper()
    deliver(stack, edited_update(user, "hi"))
    assert settle(stack, fake, user) == [REFUSED]


def test_an_oversized_body_is_refused(stack: Stack, fake: FakeTelegramApi) -> None:
    user = shopper()
    status, _ = post(stack, text_update(user, "hi " * 25_000))
    assert status == 413
    assert settle(stack, fake, user) == [REFUSED]


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'"hi"', b'{"hello": 1}', b'{"update_id": "7"}', b"\xff\xfe"],
)
def test_a_body_that_is_not_an_update_is_a_400(stack: Stack, raw: bytes) -> None:
    status, _ = post(stack, raw=raw)
    assert status == 400


def test_a_malformed_message_inside_an_update_is_a_400(stack: Stack) -> None:
    status, _ = post(stack, {"update_id": 1, "message": {"text": "no chat, no date"}})
    assert status == 400


def test_no_shopper_text_id_or_bot_token_in_the_server_logs(
    stack: Stack, fake: FakeTelegramApi
) -> None:
    user = shopper()
    turn(stack, fake, user, text_update(user, "/start"), CONSENT)
    turn(stack, fake, user, text_update(user, "quintessential marmalade"), "")
    logs = stack.logs()
    assert "quintessential marmalade" not in logs
    assert str(user) not in logs
    assert TOKEN not in logs and "/bot<token>/sendMessage" in logs


def test_set_webhook_command(stack: Stack, fake: FakeTelegramApi) -> None:
    url = "https://shop.example/webhooks/telegram/webhook"
    output = stack.rapport("telegram", "set-webhook", "--url", url)
    assert url in output
    call = fake.calls("setWebhook")[-1]
    assert call.params["url"] == url
    assert call.params["secret_token"] == SECRET
    assert json.loads(call.params["allowed_updates"]) == [
        "message",
        "edited_message",
        "callback_query",
    ]
    assert json.loads(call.params["drop_pending_updates"]) is False


def test_without_a_token_the_webhook_is_a_404() -> None:
    from bot.channels.telegram import _refusal
    from bot.config import Settings

    request: Any = SimpleNamespace(headers={"X-Telegram-Bot-Api-Secret-Token": ""}, body=b"{}")
    refusal = _refusal(request, Settings())
    assert refusal is not None and refusal.status == 404
    assert json.loads(refusal.body or b"") == {"error": "telegram channel is not configured"}
    no_secret = Settings(telegram_bot_token=TOKEN)
    refusal = _refusal(request, no_secret)
    assert refusal is not None and refusal.status == 403


def test_link_telegram_and_web_then_no_question_is_asked_twice(
    stack: Stack, fake: FakeTelegramApi
) -> None:
    user = shopper()
    turn(stack, fake, user, text_update(user, "/start"), CONSENT)
    turn(stack, fake, user, callback_update(user, "Yes, go ahead"), "How would you like")
    turn(stack, fake, user, text_update(user, "email please"), "One more thing")
    turn(stack, fake, user, text_update(user, "no thanks"), "How often")
    turn(stack, fake, user, text_update(user, "weekly"), "What brings you")
    issued = turn(stack, fake, user, text_update(user, "link my accounts"), "Here's your")
    code = issued[-1].split("code: ")[1][:9]

    web = f"web-{user}"
    assert stack.texts(web, f"link {code}")[0].startswith("Done: your accounts are linked.")
    # The Telegram chat that asked for the code is told, on Telegram, and can undo it.
    notice = "Your link code was just used: this account is now linked with a web conversation."

    def told() -> bool:
        return any(t.startswith(notice) for t in texts(fake, user))

    assert fake.wait_for(told)
    told_with = next(c for c in fake.sent(user) if c.text.startswith(notice))
    assert told_with.button_data() == ["Yes, that was me", "No, undo it"]
    kept = turn(stack, fake, user, callback_update(user, "Yes, that was me"), "Good")
    assert kept == ["Good: both stay linked."]
    hello = stack.texts(web, "hi")
    assert hello[0] == "Welcome back! I'm Calmly's assistant bot."
    assert "email" in hello[1] and "weekly" in hello[1]
    asked = hello[-1]
    assert asked.startswith("What brings you to us?")
    assert not any(q in " ".join(hello) for q in ("How would you like", "How often"))

    person = person_of(stack, user)
    assert person is not None
    assert {"channel": "rest", "external_id": web} in person["identities"]
    assert person["questions"]["contact_channels"]["status"] == "answered"


def test_rights_on_telegram_what_you_know_then_forget_me(
    stack: Stack, fake: FakeTelegramApi
) -> None:
    user = shopper()
    turn(stack, fake, user, text_update(user, "/start"), CONSENT)
    turn(stack, fake, user, callback_update(user, "Yes, go ahead"), "How would you like")
    turn(stack, fake, user, text_update(user, "text me, email is too much"), "One more thing")
    known = turn(
        stack, fake, user, text_update(user, "what do you know about me?"), "Here's everything"
    )
    summary = next(t for t in known if t.startswith("Here's everything"))
    assert "SMS, not email (you told me on Telegram" in summary
    turn(stack, fake, user, text_update(user, "forget me"), "I can delete everything")
    done = turn(
        stack, fake, user, callback_update(user, "Yes, delete everything"), "Done: everything"
    )
    assert done[-1].startswith("Done: everything I knew about you is deleted")
    assert person_of(stack, user) is None


def test_rights_on_telegram_marketing_withdrawal_change_and_export(
    stack: Stack, fake: FakeTelegramApi
) -> None:
    user = shopper()
    turn(stack, fake, user, text_update(user, "/start"), CONSENT)
    turn(stack, fake, user, callback_update(user, "Yes, go ahead"), "How would you like")
    asked = turn(stack, fake, user, text_update(user, "text me or email"), "One more thing")
    assert "offers and news by SMS and email?" in asked[-1]
    granted = turn(stack, fake, user, callback_update(user, "Only email"), "How often")
    assert granted[0] == "Thanks! Offers and news by email, not by SMS."

    # Withdrawal mid-question: only the purpose named, and the question comes back.
    stop = turn(stack, fake, user, text_update(user, "please stop emailing me"), "How often")
    assert (
        stop[0] == "Done: no offers or news by email. You can still chat with me whenever you like."
    )
    turn(stack, fake, user, callback_update(user, "daily"), "What brings you")

    # "That's wrong": which one, then the new value; history kept.
    turn(stack, fake, user, text_update(user, "that's wrong"), "Sure. Which one")
    assert fake.sent(user)[-1].button_data() == [
        "How to contact you",
        "How often",
        "Keep it as it is",
    ]
    turn(stack, fake, user, callback_update(user, "How often"), "How often would you like")
    changed = turn(stack, fake, user, callback_update(user, "monthly"), "Thanks, I've updated")
    assert changed[0] == "Thanks, I've updated that: monthly."

    # "Export my data": a one-time link to the web app.
    link = turn(stack, fake, user, text_update(user, "export my data"), "Your data is ready")
    url = link[0].split(": ", 1)[1].split()[0]
    assert url.startswith(f"{stack.web_url}/export/")
    status, page = http_json("GET", url)
    assert status == 200 and "Download my data" in page
    status, document = http_json("POST", url)
    assert status == 200
    profile = document["profile"]
    assert [h["value"] for h in profile["history"]["contact_frequency"]] == ["daily", "monthly"]
    current = profile["consents"]["current"]
    assert current["profiling"]["status"] == "granted"
    assert current["sms_marketing"]["status"] == "denied"
    assert current["email_marketing"]["status"] == "withdrawn"
    wording = document["consent_wordings"][current["email_marketing"]["wording_hash"]]
    assert wording == stop[0]
    assert http_json("POST", url)[0] == 410  # once only
