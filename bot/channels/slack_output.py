"""Where and how the Slack channel posts: the bot's answers go only to the shopper's DM.

Everything the bot says to a shopper may be personal (a link code, a download link,
their profile, a question about them), so it is only ever posted in the shopper's
direct message with the bot. A message from any other conversation (a mention in a
public or private channel, a button under an old channel message) is answered in
that conversation with nothing but a short invitation the caller gives (no personal
data), posted ephemerally to the shopper (only they see it); the conversation
itself continues in their DM, opened
with `conversations.open`. Slack DM ids start with "D" (public channels "C",
private channels and group DMs "G").

Failures are logged with Slack's error code only: never text, user or channel ids.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import aiohttp
from rasa.core.channels.channel import OutputChannel
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels import slack_blocks
from bot.config import Settings

logger = logging.getLogger(__name__)

CHANNEL = "slack"
SEND_TIMEOUT_SECONDS = 10
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,62}")
_SEND_ERRORS = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError)


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client; building it makes no request."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_base_url,
        timeout=SEND_TIMEOUT_SECONDS,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
        ],
    )


async def close_client(client: AsyncWebClient) -> None:
    """Close the client's aiohttp session, if it has one (by default each call opens its own)."""
    session = client.session
    if session is not None and not session.closed:
        await session.close()


def is_direct_message(channel: str) -> bool:
    """True when `channel` is a DM with the bot (ids "D..."); anything else may be shared."""
    return channel.startswith("D")


def _failed(method: str, error: Exception) -> None:
    """Log a failed Web API call: Slack's error code or the exception's type, nothing else."""
    if isinstance(error, SlackApiError):
        logger.error("slack %s refused: %s", method, error.response.get("error"))
    else:
        logger.error("slack %s failed: %s", method, type(error).__name__)


async def open_direct_message(client: AsyncWebClient, user: str) -> str | None:
    """The id of `user`'s DM with the bot (`conversations.open`), or None when it cannot be had."""
    try:
        answer = await client.conversations_open(users=user)
    except _SEND_ERRORS as error:
        _failed("conversations.open", error)
        return None
    channel = answer.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    if not isinstance(channel_id, str) or not is_direct_message(channel_id):
        logger.error("slack conversations.open gave no direct message")
        return None
    return channel_id


async def invite_to_direct_message(
    client: AsyncWebClient, *, channel: str, user: str, invitation: str
) -> None:
    """Show `invitation` to `user` in `channel`, to them only (`chat.postEphemeral`)."""
    try:
        await client.chat_postEphemeral(
            channel=channel, user=user, text=slack_blocks.escape(invitation)
        )
    except _SEND_ERRORS as error:
        _failed("chat.postEphemeral", error)


async def answer_in(
    client: AsyncWebClient, *, channel: str, user: str, invitation: str
) -> str | None:
    """The conversation to answer `user`'s message from `channel` in: always their DM.

    Args:
        client: the Web API client.
        channel: where `user` wrote (or clicked).
        user: the shopper's Slack user id.
        invitation: non-personal text pointing to the DM, shown to `user` alone in
            `channel` when that is not their DM.

    Returns:
        `channel` when it is the DM; otherwise the DM's id, after the invitation was
        posted; None (and nothing posted anywhere) when the DM cannot be opened.
    """
    if is_direct_message(channel):
        return channel
    direct = await open_direct_message(client, user)
    if direct is not None:
        await invite_to_direct_message(client, channel=channel, user=user, invitation=invitation)
    return direct


class SlackOutput(OutputChannel):
    """Posts the bot's messages into one Slack DM (see `answer_in` for which one)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, client: AsyncWebClient, channel: str) -> None:
        self._client = client
        self._channel = channel

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._post(slack_blocks.text_message(text))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._post(slack_blocks.choice_message(text, buttons))

    async def _post(self, message: slack_blocks.SlackMessage) -> None:
        """Post one message; a failure is logged (no text) and the conversation goes on."""
        try:
            await self._client.chat_postMessage(
                channel=self._channel, text=message.text, blocks=message.blocks
            )
        except _SEND_ERRORS as error:
            _failed("chat.postMessage", error)


class DirectMessageOutput(OutputChannel):
    """Posts to the DM of the shopper whose Slack user id is the recipient (Rasa's sender id).

    For messages Rasa sends on its own (`POST /conversations/{sender}/tracker/events
    ?output_channel=slack&execute_side_effects=true`): the DM is opened per message.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def _output(self, recipient_id: str) -> SlackOutput | None:
        if not _USER_ID.fullmatch(recipient_id):
            logger.warning("slack: the conversation is not a Slack user's, nothing sent")
            return None
        direct = await open_direct_message(self._client, recipient_id)
        return None if direct is None else SlackOutput(self._client, direct)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        output = await self._output(recipient_id)
        if output is not None:
            await output.send_text_message(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        output = await self._output(recipient_id)
        if output is not None:
            await output.send_text_with_buttons(recipient_id, text, buttons)
