"""REST webhook for the shop's own servers: a bearer token, a namespaced sender, guarded text.

`POST /webhooks/rest/webhook {"sender": ..., "message": ..., "metadata": {...}}` answers
with the bot's messages as JSON, like Rasa's RestInput, but:

- every call needs `Authorization: Bearer <RAPPORT_REST_TOKEN>` (constant-time); with
  no token configured every call is refused (403), in every environment (`make run`
  generates one into var/rest.token);
- a browser cannot use it from another site: a request with an `Origin` outside
  RAPPORT_ALLOWED_ORIGINS is refused (403);
- the sender is namespaced: sender `alice` is Rasa's conversation `rest:alice`, so a
  REST caller can never reach a Telegram, Slack or web chat conversation
  (bot/domain/conversations.py); a missing sender is 400, never a shared conversation;
- a shop-signed customer (bot/channels/customer.py) joins the chat; a sender already
  joined to another shop customer is refused with 409 (use a new sender);
- errors are JSON `{"error": ...}`; the message text is never logged, also when the
  client hangs up or Sanic times the request out (Rasa's RestInput logs `text=` then).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.adapters.rasa_api import addressable
from bot.channels.customer import attach_if_vouched
from bot.channels.guard import guarded
from bot.channels.inbound import MAX_BODY_BYTES
from bot.channels.limits import RateLimits
from bot.channels.origins import origin_refused, source_pseudonym
from bot.channels.startup import connector_services
from bot.config import Settings
from bot.domain.conversations import REST_PREFIX, SOURCE_KEY
from bot.domain.model import Identity
from bot.services.linking import AttachOutcome, LinkingService

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
REALM = 'Bearer realm="rapport"'


class Refusal(Exception):
    """A call answered with an error status and `{"error": ...}`."""

    def __init__(self, status: int, error: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.headers = headers or {}

    def response(self) -> HTTPResponse:
        return response.json({"error": self.error}, status=self.status, headers=self.headers)


def authorize(headers: Mapping[str, str], settings: Settings) -> None:
    """Raise a Refusal (403, 401) unless the caller may use the REST webhook."""
    if not settings.rest_token:
        raise Refusal(403, "the REST channel is off: set RAPPORT_REST_TOKEN to use it")
    given = headers.get("authorization", "")
    expected = f"Bearer {settings.rest_token}"
    if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
        raise Refusal(401, "a valid bearer token is required", {"WWW-Authenticate": REALM})


def parse_body(body: bytes) -> tuple[str, str | None, dict[str, Any] | None]:
    """The sender, message text and metadata of a webhook body, or a Refusal (400/413)."""
    if len(body) > MAX_BODY_BYTES:
        raise Refusal(413, f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refusal(400, "the body must be a JSON object") from None
    if not isinstance(document, dict):
        raise Refusal(400, "the body must be a JSON object")
    sender = document.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise Refusal(400, "`sender` is required: a non-empty string")
    if len(sender) > MAX_SENDER_CHARS or not addressable(REST_PREFIX + sender):
        # Only ids Rasa's API can name: "forget me" and retention must reach the chat.
        raise Refusal(
            400,
            f"`sender` must be 1 to {MAX_SENDER_CHARS} characters of A-Z a-z 0-9 "
            "and . _ ~ ! $ & ' ( ) * + , ; = : @ -",
        )
    message = document.get("message")
    if message is not None and not isinstance(message, str):
        raise Refusal(400, "`message` must be a string")
    metadata = document.get("metadata")
    return sender, message, metadata if isinstance(metadata, dict) else None


class GuardedRestInput(InputChannel):
    """Rapport's REST channel (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def get_output_channel(self) -> None:
        """Nothing can be pushed to a REST caller: notices wait for its next call."""
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        app = connector_services()  # once, when Rasa builds the channel
        settings, linking, key = app.settings, app.linking, app.key
        limits = RateLimits.from_settings(settings)
        shopper_message = guarded(on_new_message, settings=settings, limits=limits)
        bp = Blueprint("rapport_rest_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                if origin_refused(request.headers.get("origin"), settings):
                    raise Refusal(403, "requests from this origin are not accepted")
                authorize(request.headers, settings)
                sender, text, metadata = parse_body(request.body or b"")
                await _join_customer(linking, Identity(self.name(), sender), metadata, settings)
            except Refusal as refusal:
                return refusal.response()
            collector = CollectingOutputChannel()
            metadata = {**(metadata or {}), SOURCE_KEY: source_pseudonym(request, key=key)}
            message = UserMessage(
                text,
                collector,
                REST_PREFIX + sender,
                input_channel=self.name(),
                metadata=metadata,
            )
            await _handled_quietly(shopper_message, message)
            # The caller addressed its own sender id; the namespace stays inside Rasa.
            return response.json([{**m, "recipient_id": sender} for m in collector.messages])

        return bp


async def _join_customer(
    linking: LinkingService,
    identity: Identity,
    metadata: dict[str, Any] | None,
    settings: Settings,
) -> None:
    """Join the sender's chat to a shop-signed customer; a Refusal (409) on a conflict."""
    if not metadata or "customer" not in metadata:
        return
    outcome = await attach_if_vouched(
        linking,
        identity,
        metadata,
        secret=settings.shop_secret,
        max_minutes=settings.shop_signature_minutes,
    )
    if outcome is AttachOutcome.CONFLICT:
        raise Refusal(409, "this sender is joined to another customer: use a new sender")


async def _handled_quietly(
    handler: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
) -> None:
    """Run Rasa's handler; log failures by type only (never the text), re-raise cancellation."""
    try:
        await handler(message)
    except asyncio.CancelledError:
        # The client hung up or Sanic's response timeout passed: Sanic cancels us.
        logger.warning("REST message processing cancelled (client gone or timed out)")
        raise
    except Exception as error:
        logger.error("REST message processing failed: %s", type(error).__name__)
        logger.debug("REST message processing failure details", exc_info=True)
