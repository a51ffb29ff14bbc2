"""The Slack webhook: checks, acknowledges and schedules deliveries, answers them in the DM.

Every request must carry a valid Slack signature; the body is then an Events API
envelope (JSON) or an interactivity form. An answerable message or click is handed to
the shared inbound worker (`bot.channels.inbound`: one at a time per shopper, each
delivery answered once) and acknowledged at once; the answer goes to the shopper's DM
(`bot.channels.slack_output`).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.guard import OnNewMessage
from bot.channels.inbound import (
    MAX_BODY_BYTES,
    SHUTDOWN_GRACE_SECONDS,
    FirstDelivery,
    InboundWorker,
    WorkerLogs,
)
from bot.channels.slack_events import (
    Inbound,
    click_inbound,
    event_inbound,
    parse_form_payload,
    parse_json,
)
from bot.channels.slack_output import CHANNEL, SlackOutput, answer_in, close_client
from bot.channels.slack_signatures import Now, is_signed_by_slack
from bot.config import Settings

logger = logging.getLogger(__name__)

CHANNEL_INVITATION = "I've answered you in a direct message, so what you tell me stays between us."
"""All a channel other than the shopper's DM ever gets from the bot: posted ephemerally, to them.

To move to the message catalogue (shop/questions.yml), so it is translated like the rest.
"""
_FORM = "application/x-www-form-urlencoded"
_LOGS = WorkerLogs(
    logger=logger,
    duplicate="slack delivery already handled, not answered again",
    failure_details="slack processing failure details",
)


def refusal(status: int, message: str) -> HTTPResponse:
    """The JSON error answer `{"error": message}`."""
    return response.json({"error": message}, status=status)


class Webhook:
    """Checks, acknowledges and schedules Slack deliveries for one running channel.

    Args:
        settings: the channel's settings (the signing secret).
        client: the channel's Web API client.
        on_message: Rasa's handler, guarded and rate-limited.
        now: the clock signatures are checked against.
        first_delivery: the duplicate check (`bot.channels.inbound.receipts`).
    """

    def __init__(
        self,
        settings: Settings,
        client: AsyncWebClient,
        on_message: OnNewMessage,
        now: Now,
        first_delivery: FirstDelivery,
    ) -> None:
        self._secret = settings.slack_signing_secret
        self._client = client
        self._on_message = on_message
        self._now = now
        self._worker = InboundWorker(self._answer, first_delivery=first_delivery, logs=_LOGS)

    async def handle(self, request: Request) -> HTTPResponse:
        """Answer one webhook request (the answer to the shopper follows in the background)."""
        body: bytes = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return refusal(413, "request body too large")
        headers = {
            "x-slack-request-timestamp": request.headers.get("x-slack-request-timestamp", ""),
            "x-slack-signature": request.headers.get("x-slack-signature", ""),
        }
        if not is_signed_by_slack(body, headers, signing_secret=self._secret, now=self._now):
            logger.warning("slack request with a missing, invalid or stale signature refused")
            return refusal(401, "invalid signature")
        if request.headers.get("content-type", "").startswith(_FORM):
            return self._interactivity(parse_form_payload(body))
        return self._events(parse_json(body), request.headers.get("x-slack-retry-num"))

    def _interactivity(self, payload: dict[str, Any] | None) -> HTTPResponse:
        if payload is None:
            return refusal(400, "the body must carry a JSON `payload` field")
        inbound = click_inbound(payload)
        if inbound is not None:
            self._schedule(inbound)
        return response.empty(status=200)

    def _events(self, envelope: dict[str, Any] | None, retry: str | None) -> HTTPResponse:
        if envelope is None:
            return refusal(400, "the body must be a JSON object")
        kind = envelope.get("type")
        if kind == "url_verification":
            challenge = envelope.get("challenge")
            if not isinstance(challenge, str):
                return refusal(400, "`challenge` must be a string")
            return response.json({"challenge": challenge})
        if kind == "event_callback":
            if retry:
                logger.debug("slack retry #%s of an event", retry)
            inbound = event_inbound(envelope)
            if inbound is not None:
                self._schedule(inbound)
        return response.empty(status=200)

    def _schedule(self, inbound: Inbound) -> None:
        self._worker.submit(
            inbound, conversation=inbound.user, keys=inbound.keys, what="slack message processing"
        )

    async def _answer(self, inbound: Inbound) -> None:
        """Answer one first delivery: in the shopper's DM, after an invitation elsewhere."""
        direct = await answer_in(
            self._client,
            channel=inbound.channel,
            user=inbound.user,
            invitation=CHANNEL_INVITATION,
        )
        if direct is None:
            logger.warning("slack message not answered: no direct message to answer in")
            return
        message = UserMessage(
            inbound.text,
            SlackOutput(self._client, direct),
            sender_id=inbound.user,
            input_channel=CHANNEL,
            message_id=inbound.ref,
        )
        await self._on_message(message)

    async def close(self) -> None:
        """Let running answers finish (briefly), then release the client's connections."""
        await self._worker.close(SHUTDOWN_GRACE_SECONDS)
        await close_client(self._client)
