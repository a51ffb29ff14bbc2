"""Rapport's Telegram channel on python-telegram-bot: authenticated webhook, guarded messages.

Rasa's own Telegram channel uses aiogram, calls Telegram at start-up and never checks
the webhook secret. This one:

- is on whenever `TELEGRAM_BOT_TOKEN` is set; without it `POST /webhooks/telegram/webhook`
  answers 404 and nothing else happens. Telegram is never called at start-up: the PTB
  `Bot` is initialised on the first reply.
- accepts a webhook call only when `X-Telegram-Bot-Api-Secret-Token` equals
  `TELEGRAM_SECRET_TOKEN` (constant-time). If no secret is configured, every call is
  refused with 403: an unauthenticated webhook would let anyone speak as any shopper.
  Bodies over 64 KiB get 413, anything that is not a JSON Telegram Update gets 400.
- answers 200 at once and processes the update in the background, one update at a time
  per chat (in arrival order); an `update_id` seen before is dropped (persisted receipts,
  so Telegram's redeliveries are answered once, even across a restart).
- talks in private chats only: messages and button presses from groups, supergroups and
  channels are ignored silently (the bot never profiles a group).
- passes every text through the guard (`bot.channels.guard`): typed `/intent{...}`,
  empty and oversized texts get the guard's polite answer. Telegram's own `/start`
  (or `/start@botname`) is the welcome and is fed to Rasa as `/greet`; any other
  slash text is refused by the guard.
- answers stickers, photos, voice notes, documents and other non-text messages with
  "Sorry, I can only read text for now."
- ignores `edited_message` updates deliberately: re-processing an edit would record
  an answer twice.
- shows the bot's choices as an inline keyboard; a pressed button is answered
  (`answerCallbackQuery`) and its payload is treated as the shopper's text.

Nothing at INFO or above logs message text, names, usernames or ids, and the bot token is
redacted from the HTTP client's request log lines (Bot API URLs contain it).

The parts: what an update asks (`telegram_updates`), answering it (`telegram_processor`,
on the worker shared with Slack, `inbound`), sending (`telegram_output`,
`telegram_sender`). This module is the webhook Rasa builds (credentials.yml:
`bot.channels.telegram.TelegramInput`).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.guard import OnNewMessage
from bot.channels.inbound import MAX_BODY_BYTES, receipts
from bot.channels.startup import connector_services
from bot.channels.telegram_output import CHANNEL, ConversationOutput, TelegramOutput
from bot.channels.telegram_processor import TEXT_ONLY_REPLY, WELCOME_TEXT, UpdateProcessor
from bot.channels.telegram_updates import Inbound, MalformedUpdate, classify, parse_update
from bot.config import Settings

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _secret_matches(given: str | None, expected: str) -> bool:
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _too_large(request: Request) -> bool:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return True
    return len(request.body or b"") > MAX_BODY_BYTES


def _refusal(request: Request, settings: Settings) -> HTTPResponse | None:
    """The error answer for a webhook call that must not be processed, if any."""
    if not settings.telegram_bot_token:
        return response.json({"error": "telegram channel is not configured"}, status=404)
    if not _secret_matches(request.headers.get(SECRET_HEADER), settings.telegram_secret_token):
        return response.json({"error": "forbidden"}, status=403)
    if _too_large(request):
        return response.json({"error": "body too large"}, status=413)
    return None


class TelegramInput(InputChannel):
    """`POST /webhooks/telegram/webhook`: Telegram's webhook (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    _processor: UpdateProcessor | None = None
    _configured = False

    def get_output_channel(self) -> OutputChannel | None:
        """Rasa's API sends here (`output_channel=telegram`): to the conversation's chat."""
        processor = self._processor
        if processor is None or not self._configured:
            return None
        return ConversationOutput(processor.output_for)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        app = connector_services()  # once, when Rasa builds the channel
        settings = app.settings
        bp = Blueprint("rapport_telegram_webhook", __name__)
        first_delivery = receipts(app.uow_factory, channel=CHANNEL, secret=app.key)
        processor = UpdateProcessor(settings, on_new_message, first_delivery)
        self._processor = processor
        self._configured = bool(settings.telegram_bot_token)
        if settings.telegram_bot_token and not settings.telegram_secret_token:
            logger.warning(
                "TELEGRAM_SECRET_TOKEN is not set: every Telegram webhook call is refused"
            )

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refusal = _refusal(request, settings)
            if refusal is not None:
                return refusal
            update = parse_update(request.body)
            if update is None:
                return response.json({"error": "the body must be a Telegram Update"}, status=400)
            try:
                inbound = classify(update)
            except MalformedUpdate:
                return response.json({"error": "the body must be a Telegram Update"}, status=400)
            if inbound is not None:
                processor.schedule(inbound)
            return response.json({"ok": True})

        @bp.listener("before_server_stop")
        async def close(*_: Any) -> None:
            await processor.close()

        return bp


__all__ = [
    "CHANNEL",
    "SECRET_HEADER",
    "TEXT_ONLY_REPLY",
    "WELCOME_TEXT",
    "Inbound",
    "MalformedUpdate",
    "TelegramInput",
    "TelegramOutput",
    "UpdateProcessor",
    "classify",
    "parse_update",
]
