"""Where Slack answers go: only ever the shopper's DM (real slack_sdk client, fake Web API).

A message from a DM is answered there; from any other conversation the shopper gets
an ephemeral invitation in it and the answer in their DM. Rasa's own sends
(`get_output_channel`) go to the DM of the conversation's Slack user.
"""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import SlackInput
from bot.channels.slack_output import answer_in, close_client, make_client
from bot.config import Settings
from tests.fakes.slack_api import FakeSlackApi, dm_of

TOKEN = "xoxb-routing"
INVITATION = "Let's talk in private."
BUTTONS = [{"title": "Yes, go ahead", "payload": "Yes, go ahead"}, {"title": "No thanks"}]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackApi]:
    api = FakeSlackApi(token=TOKEN).start()
    yield api
    api.stop()


def settings_for(fake: FakeSlackApi) -> Settings:
    return Settings(slack_bot_token=TOKEN, slack_base_url=f"{fake.url}/api/")


def route(fake: FakeSlackApi, channel: str, user: str) -> str | None:
    async def run() -> str | None:
        client = make_client(settings_for(fake))
        return await answer_in(client, channel=channel, user=user, invitation=INVITATION)

    return asyncio.run(run())


def calls_about(fake: FakeSlackApi, *ids: str) -> list[Any]:
    """Every call naming one of `ids` as its channel or user."""
    return [c for c in fake.calls() if c.channel in ids or c.user in ids]


# --- Rasa's API sends: get_output_channel -----------------------------------------------


def test_a_message_with_buttons_from_rasas_api_lands_in_the_users_dm(fake: FakeSlackApi) -> None:
    output = SlackInput(settings_for(fake)).get_output_channel()
    assert output is not None and output.name() == "slack"

    asyncio.run(output.send_text_with_buttons("U123", "Was that you?", BUTTONS))

    assert [c.method for c in calls_about(fake, "U123", dm_of("U123"))] == [
        "conversations.open",
        "chat.postMessage",
    ]
    [post] = fake.posts(dm_of("U123"))
    assert post.token == TOKEN
    assert post.text == "Was that you?"
    assert post.blocks[0] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "Was that you?"},
    }
    assert [(b["text"]["text"], b["value"]) for b in post.buttons()] == [
        ("Yes, go ahead", "Yes, go ahead"),
        ("No thanks", "No thanks"),
    ]


def test_a_text_from_rasas_api_lands_in_the_users_dm(fake: FakeSlackApi) -> None:
    output = SlackInput(settings_for(fake)).get_output_channel()
    assert output is not None
    asyncio.run(output.send_text_message("W0ENTERPRISE", "Your link code was just used."))
    assert [p.text for p in fake.posts(dm_of("W0ENTERPRISE"))] == ["Your link code was just used."]


@pytest.mark.parametrize("recipient", ["rest:alice", "C0PUBLIC1", "D0DM1", "u123", ""])
def test_rasas_api_sends_nothing_to_what_is_not_a_slack_user(
    fake: FakeSlackApi, recipient: str
) -> None:
    output = SlackInput(settings_for(fake)).get_output_channel()
    assert output is not None
    before = len(fake.calls())
    asyncio.run(output.send_text_message(recipient, "Your link code was just used."))
    assert fake.calls()[before:] == []


def test_without_a_bot_token_there_is_no_output_channel() -> None:
    assert SlackInput(Settings(slack_bot_token="")).get_output_channel() is None


def test_when_the_dm_cannot_be_opened_nothing_is_posted(fake: FakeSlackApi) -> None:
    output = SlackInput(settings_for(fake)).get_output_channel()
    assert output is not None
    fake.fail_next("conversations.open", 1, "cannot_dm_bot")
    asyncio.run(output.send_text_message("U0BLOCKED1", "Your link code was just used."))
    assert [c.method for c in calls_about(fake, "U0BLOCKED1", dm_of("U0BLOCKED1"))] == [
        "conversations.open"
    ]


# --- answering a shopper's message: answer_in --------------------------------------------


def test_a_dm_is_answered_in_the_dm_without_any_call(fake: FakeSlackApi) -> None:
    before = len(fake.calls())
    assert route(fake, "D0SHOPPER1", "U0SHOPPER1") == "D0SHOPPER1"
    assert fake.calls()[before:] == []


@pytest.mark.parametrize("channel", ["C0PUBLIC01", "G0PRIVATE1"])
def test_a_channel_gets_only_an_ephemeral_invitation_and_the_answer_goes_to_the_dm(
    fake: FakeSlackApi, channel: str
) -> None:
    user = f"U0{channel}"
    assert route(fake, channel, user) == dm_of(user)
    assert fake.opened(user) != []
    [invitation] = fake.calls(channel=channel)
    assert invitation.method == "chat.postEphemeral"
    assert (invitation.user, invitation.text) == (user, INVITATION)


def test_when_the_dm_cannot_be_opened_the_channel_gets_nothing(fake: FakeSlackApi) -> None:
    fake.fail_next("conversations.open", 1, "user_not_found")
    assert route(fake, "C0NODM0001", "U0NODM0001") is None
    assert fake.calls(channel="C0NODM0001") == []


def test_an_invitation_slack_refuses_does_not_stop_the_answer(fake: FakeSlackApi) -> None:
    fake.fail_next("chat.postEphemeral", 1, "user_not_in_channel")
    assert route(fake, "C0OUTSIDE1", "U0OUTSIDE1") == dm_of("U0OUTSIDE1")


# --- shutdown ----------------------------------------------------------------------------


def test_closing_releases_a_clients_session_and_tolerates_none() -> None:
    async def run() -> tuple[bool, bool]:
        session = aiohttp.ClientSession()
        with_session = AsyncWebClient(token=TOKEN, session=session)
        await close_client(with_session)
        await close_client(AsyncWebClient(token=TOKEN))  # no session of its own: nothing to do
        await close_client(with_session)  # twice is harmless
        return session.closed, AsyncWebClient(token=TOKEN).session is None

    assert asyncio.run(run()) == (True, True)
