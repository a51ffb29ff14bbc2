"""REST webhook that requires a sender, refuses malformed bodies and guards every message."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage as BadRequest
from sanic.exceptions import NotFound, PayloadTooLarge, Unauthorized
from sanic.request import Request

from bot.channels.customer import attach_if_vouched
from bot.channels.guard import guarded
from bot.channels.platform import apply_platform_fixes
from bot.config import Settings, load_settings
from bot.domain.model import Identity
from bot.services.rasa_api import addressable

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
MAX_BODY_BYTES = 64 * 1024


def _body(request: Request) -> dict[str, Any]:
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        body = request.json
    except Exception as exc:  # sanic raises its own error type on malformed JSON
        raise BadRequest("the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def authorize(headers: Mapping[str, str], settings: Settings) -> None:
    """Raise 401/404 unless the caller may use the REST webhook."""
    if not settings.rest_token:
        if settings.production:
            raise NotFound("the REST channel is off in production")
        return
    given = headers.get("authorization", "")
    expected = f"Bearer {settings.rest_token}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(  # type: ignore[no-untyped-call]
            "a valid bearer token is required", scheme="Bearer", realm="rapport"
        )


class GuardedRestInput(RestInput):
    """`POST /webhooks/rest/webhook {"sender": ..., "message": ...}`.

    Unlike Rasa's RestInput, a missing sender is a 400 (never the shared
    "default" conversation), and the body cannot choose the input channel.
    """

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> str | None:
        authorize(req.headers, self._settings)  # the first thing RestInput.receive calls
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip():
            raise BadRequest("`sender` is required: a non-empty string")
        if len(sender) > MAX_SENDER_CHARS or not addressable(sender):
            # Only ids Rasa's API can name: "forget me" and retention must reach the chat.
            raise BadRequest(
                f"`sender` must be 1 to {MAX_SENDER_CHARS} characters of A-Z a-z 0-9 "
                "and . _ ~ ! $ & ' ( ) * + , ; = : @ -"
            )
        return sender

    def _extract_message(self, req: Request) -> str | None:
        message = _body(req).get("message")
        if message is not None and not isinstance(message, str):
            raise BadRequest("`message` must be a string")
        return message

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = _body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        apply_platform_fixes()

        self._settings = load_settings()  # read once, when Rasa builds the channel
        secret = self._settings.shop_secret

        async def with_customer(message: UserMessage) -> Any:
            identity = Identity(self.name(), message.sender_id)
            await attach_if_vouched(identity, message.metadata, secret)
            return await on_new_message(message)

        shopper_message = guarded(with_customer)

        async def logged_without_text(message: UserMessage) -> Any:
            # Rasa's RestInput logs the message text with any exception from here (at
            # ERROR); it answers 200 with what was sent so far either way.
            try:
                return await shopper_message(message)
            except Exception as error:
                logger.error("REST message processing failed: %s", type(error).__name__)
                logger.debug("REST message processing failure details", exc_info=True)
                return None

        return super().blueprint(logged_without_text)
