"""Slack channel on slack_sdk: signed, de-duplicated Events API and button clicks, answered in DMs.

`POST /webhooks/slack/webhook` takes both Events API deliveries (JSON) and
interactivity (`application/x-www-form-urlencoded` with a `payload` field).
Every request must carry a valid Slack signature (5-minute window). Slack wants
a 2xx within 3 s and re-sends otherwise, so the webhook acknowledges at once and
answers in the background, one message at a time per shopper. Rasa's own Slack
channel does not de-duplicate `event_id`; here every delivery is recorded in the
profile store (`bot.services.receipts`), by event and by the underlying message,
so a retry, a replay, or a DM that arrives both as `message.im` and `app_mention`
is answered once. Shopper text passes the guard (and the per-shopper rate limits)
like on every other channel.

The bot answers only in the shopper's direct message with it (`bot.channels.slack_output`):
a mention in a channel, or a click on a button under a channel message, gets nothing
in that channel but a short ephemeral invitation to the DM, and is answered in the DM,
where the conversation goes on. Rasa's HTTP API can send to a Slack shopper too
(`output_channel=slack`): the conversation id is their Slack user id, and the message
goes to their DM.

The channel is on whenever SLACK_BOT_TOKEN is set; nothing calls Slack at
start-up. On shutdown, running answers get a few seconds to finish. Shopper text,
user names and ids are never logged at INFO or above.

The parts: signatures (`slack_signatures`), what a delivery asks (`slack_events`), the
webhook (`slack_webhook`, on the worker shared with Telegram, `inbound`), where and how
answers are posted (`slack_output`, `slack_blocks`). This module is the channel Rasa
builds (credentials.yml: `bot.channels.slack.SlackInput`).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.guard import guarded
from bot.channels.inbound import FirstDelivery, receipts
from bot.channels.limits import RateLimits
from bot.channels.slack_output import CHANNEL, DirectMessageOutput, make_client
from bot.channels.slack_signatures import Now, is_signed_by_slack
from bot.channels.slack_webhook import CHANNEL_INVITATION, Webhook, refusal
from bot.channels.startup import connector_services
from bot.config import Settings

logger = logging.getLogger(__name__)


class SlackInput(InputChannel):
    """Rapport's Slack channel (see the module docstring).

    Args:
        settings: the channel's settings; by default the process's, taken from the
            composition root when Rasa builds the channel (`blueprint`).
        now: the clock request signatures are checked against.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if credentials:
            logger.warning("slack channel settings come from the environment; credentials ignored")
        return cls()

    def __init__(self, settings: Settings | None = None, now: Now = time.time) -> None:
        self._settings = settings
        self._now = now
        self._client: AsyncWebClient | None = None

    @property
    def configured(self) -> bool:
        """On whenever a bot token is set (off until the channel has its settings)."""
        return self._settings is not None and bool(self._settings.slack_bot_token)

    def _get_client(self, settings: Settings) -> AsyncWebClient:
        """The one Web API client of this channel (made on first use; that makes no request)."""
        if self._client is None:
            self._client = make_client(settings)
        return self._client

    def get_output_channel(self) -> OutputChannel | None:
        """Rasa's API sends here (`output_channel=slack`): to the DM of the sender id's user.

        Returns:
            An output posting to the DM of the Slack user whose id is the recipient
            (the conversation's sender id), or None when the channel is not configured.
        """
        if self._settings is None or not self.configured:
            return None
        return DirectMessageOutput(self._get_client(self._settings))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        app = connector_services()  # once, when Rasa builds the channel
        if self._settings is None:
            self._settings = app.settings
        settings = self._settings
        bp = Blueprint("rapport_slack_webhook", __name__)
        first_delivery = receipts(app.uow_factory, channel=CHANNEL, secret=app.key)
        webhook = (
            self._webhook(settings, on_new_message, first_delivery) if self.configured else None
        )
        if webhook is not None and not settings.slack_signing_secret:
            logger.warning("SLACK_SIGNING_SECRET is not set: every Slack request will be refused")

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if webhook is None:
                return refusal(404, "slack channel is not configured")
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if webhook is None:
                return refusal(404, "slack channel is not configured")
            return await webhook.handle(request)

        @bp.listener("before_server_stop")
        async def close(*_: Any) -> None:
            if webhook is not None:
                await webhook.close()

        return bp

    def _webhook(
        self,
        settings: Settings,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        first_delivery: FirstDelivery,
    ) -> Webhook:
        """The webhook: guarded, rate-limited per shopper, sharing this channel's client."""
        limits = RateLimits.from_settings(settings)
        handler = guarded(on_new_message, settings=settings, limits=limits)
        client = self._get_client(settings)
        return Webhook(settings, client, handler, self._now, first_delivery)


__all__ = ["CHANNEL", "CHANNEL_INVITATION", "SlackInput", "is_signed_by_slack"]
