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
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Awaitable, Callable, Literal

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, Chat, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.channels.guard import guarded
from bot.channels.limits import RateLimits
from bot.channels.platform import apply_platform_fixes
from bot.channels.telegram_sender import (
    CallbackPayloads,
    TelegramSender,
    inline_keyboard,
    redact_token_in_http_logs,
)
from bot.config import Settings, load_settings
from bot.domain.model import utcnow
from bot.services.receipts import first_delivery
from bot.services.runtime import get_services
from bot.services.secret_files import private_process

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 64 * 1024
TEXT_ONLY_REPLY = "Sorry, I can only read text for now."
WELCOME_TEXT = "/greet"
"""What `/start` feeds Rasa: built here, never taken from the shopper."""
_START = re.compile(r"/start(@[A-Za-z0-9_]{1,64})?")
SHUTDOWN_GRACE_SECONDS = 5.0

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
Kind = Literal["start", "text", "non_text", "callback"]


class TelegramOutput(OutputChannel):
    """Sends the bot's answers to one Telegram chat; buttons become an inline keyboard."""

    def __init__(self, sender: TelegramSender, chat_id: int, payloads: CallbackPayloads) -> None:
        self._sender = sender
        self._chat_id = chat_id
        self._payloads = payloads

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def _send(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        try:
            await self._sender.send_text(self._chat_id, text, markup)
        except TelegramError as error:
            # Never break Rasa's turn over a failed delivery (e.g. the shopper blocked the bot).
            logger.warning("Telegram delivery failed: %s", type(error).__name__)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(text, None)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(text, inline_keyboard(buttons, self._payloads))


@dataclass(frozen=True)
class Inbound:
    """What one update asks of the bot, decided before it is acknowledged."""

    update_id: int
    kind: Kind
    chat_id: int
    sender_id: str
    text: str = ""
    callback_id: str = ""


class MalformedUpdate(ValueError):
    """An update PTB parsed, but whose fields do not have the types Telegram sends."""


def _ids(chat: Any, user: Any) -> tuple[int, str]:
    """The chat id and the sender id; PTB does not check types, so it is done here."""
    chat_id, user_id = getattr(chat, "id", None), getattr(user, "id", None)
    if type(chat_id) is not int or type(user_id) is not int:
        raise MalformedUpdate("chat and user ids must be integers")
    return chat_id, str(user_id)


def _from_callback(update: Update) -> Inbound | None:
    query = update.callback_query
    if query is None or query.message is None:
        return None
    if getattr(query.message, "chat", None) is None:
        raise MalformedUpdate("a button press must come with its message's chat")
    if query.message.chat.type != Chat.PRIVATE:
        return None
    chat_id, sender_id = _ids(query.message.chat, query.from_user)
    if not isinstance(query.id, str) or not isinstance(query.data, (str, type(None))):
        raise MalformedUpdate("callback query id and data must be strings")
    return Inbound(update.update_id, "callback", chat_id, sender_id, query.data or "", query.id)


def _from_message(update: Update) -> Inbound | None:
    message = update.message  # edited messages and channel posts are not `message`
    if message is not None and message.chat is None:
        raise MalformedUpdate("a message must have a chat")
    if message is None or message.chat.type != Chat.PRIVATE or message.from_user is None:
        return None
    chat_id, sender_id = _ids(message.chat, message.from_user)
    text = message.text
    if not isinstance(text, (str, type(None))):
        raise MalformedUpdate("message text must be a string")
    if text is None:
        if message.effective_attachment is None:
            return None  # a service message (pinned, ...), not something the shopper sent
        return Inbound(update.update_id, "non_text", chat_id, sender_id)
    kind: Kind = "start" if _START.fullmatch(text.strip()) else "text"
    return Inbound(update.update_id, kind, chat_id, sender_id, text)


def classify(update: Update) -> Inbound | None:
    """The work an update asks for, or None when it is ignored (groups, edits, others).

    Raises MalformedUpdate when a field the bot relies on has the wrong type.
    """
    if update.callback_query is not None:
        return _from_callback(update)
    return _from_message(update)


def parse_update(body: bytes) -> Update | None:
    """The Telegram Update in a webhook body, or None when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.de_json(data, None)
    except Exception:  # PTB raises KeyError / TypeError / ValueError on malformed shapes
        return None


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


def _first_delivery(update_id: int) -> bool:
    services = get_services()
    return first_delivery(
        services.uow_factory,
        channel=CHANNEL,
        key=f"update:{update_id}",
        at=utcnow(),
        secret=services.key,
    )


class UpdateProcessor:
    """Runs accepted updates in the background, in order per chat, each at most once."""

    def __init__(self, settings: Settings, on_new_message: OnNewMessage) -> None:
        self._settings = settings
        self._on_new_message = on_new_message
        self._shopper_message = guarded(
            on_new_message, settings=settings, limits=RateLimits.from_settings(settings)
        )
        self._payloads = CallbackPayloads()
        self._sender: TelegramSender | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._tails: dict[int, asyncio.Task[None]] = {}

    def _get_sender(self) -> TelegramSender:
        if self._sender is None:
            token = self._settings.telegram_bot_token
            redact_token_in_http_logs(token)
            bot = Bot(token, base_url=self._settings.telegram_base_url)
            self._sender = TelegramSender(bot)
        return self._sender

    def output_for(self, chat_id: int) -> TelegramOutput:
        """An output to one private chat (for messages Rasa sends on its own, e.g. notices)."""
        return TelegramOutput(self._get_sender(), chat_id, self._payloads)

    def schedule(self, inbound: Inbound) -> None:
        """Process `inbound` after whatever is still running for the same chat."""
        task = asyncio.create_task(self._run(inbound, self._tails.get(inbound.chat_id)))
        self._tails[inbound.chat_id] = task
        self._tasks.add(task)
        task.add_done_callback(partial(self._forget, inbound.chat_id))

    def _forget(self, chat_id: int, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._tails.get(chat_id) is task:
            del self._tails[chat_id]

    async def _run(self, inbound: Inbound, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            await self._process(inbound)
        except Exception as error:
            logger.error("Telegram %s update failed: %s", inbound.kind, type(error).__name__)
            logger.debug("Telegram update failure", exc_info=True)

    async def _process(self, inbound: Inbound) -> None:
        if not await asyncio.to_thread(_first_delivery, inbound.update_id):
            logger.debug("Telegram update delivered again: ignored")
            return
        sender = self._get_sender()
        output = TelegramOutput(sender, inbound.chat_id, self._payloads)
        if inbound.kind == "non_text":
            await output.send_text_message(inbound.sender_id, TEXT_ONLY_REPLY)
            return
        text = await self._text_for_rasa(inbound, sender)
        if text is None:
            return
        message = UserMessage(
            text,
            output,
            inbound.sender_id,
            input_channel=CHANNEL,
            message_id=f"telegram:{inbound.update_id}",
        )
        handler = self._on_new_message if inbound.kind == "start" else self._shopper_message
        await handler(message)

    async def _text_for_rasa(self, inbound: Inbound, sender: TelegramSender) -> str | None:
        """What Rasa reads for `inbound`: the welcome, the text, or a pressed button's payload."""
        if inbound.kind == "start":
            return WELCOME_TEXT
        if inbound.kind != "callback":
            return inbound.text
        await sender.answer_callback(inbound.callback_id)
        text = self._payloads.decode(inbound.text)
        if text is None:
            logger.info("Telegram button with an unknown payload key ignored")
        return text

    async def close(self) -> None:
        """Let running updates finish (briefly), then release the bot's connections."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE_SECONDS)
        if self._sender is not None:
            await self._sender.close()


class _ToConversation(OutputChannel):
    """Sends to the private chat whose id is the conversation's sender id."""

    def __init__(self, processor: UpdateProcessor) -> None:
        self._processor = processor

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def _output(self, recipient_id: str) -> TelegramOutput | None:
        if not recipient_id.isdigit():
            logger.warning("Telegram: not a private chat id, nothing sent")
            return None
        return self._processor.output_for(int(recipient_id))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        output = self._output(recipient_id)
        if output is not None:
            await output.send_text_message(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        output = self._output(recipient_id)
        if output is not None:
            await output.send_text_with_buttons(recipient_id, text, buttons)


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
        return _ToConversation(processor)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        apply_platform_fixes()
        settings = load_settings()
        private_process(settings)
        bp = Blueprint("rapport_telegram_webhook", __name__)
        processor = UpdateProcessor(settings, on_new_message)
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
