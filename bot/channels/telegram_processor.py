"""Answers accepted Telegram updates in the background, on the worker shared with Slack.

Each update runs after the ones before it from the same chat and at most once (the
shared worker, `bot.channels.inbound`). A text passes the guard and the rate limits;
`/start` is the welcome, fed to Rasa as `/greet` unguarded; a pressed button is
answered (`answerCallbackQuery`) and its payload becomes the shopper's text; anything
that is not text gets `TEXT_ONLY_REPLY`. The PTB `Bot` is initialised on the first
reply, never at start-up.
"""

from __future__ import annotations

import logging

from rasa.core.channels.channel import UserMessage
from telegram import Bot

from bot.channels.guard import OnNewMessage, guarded
from bot.channels.inbound import SHUTDOWN_GRACE_SECONDS, FirstDelivery, InboundWorker, WorkerLogs
from bot.channels.limits import RateLimits
from bot.channels.telegram_output import CHANNEL, TelegramOutput
from bot.channels.telegram_sender import (
    CallbackPayloads,
    TelegramSender,
    redact_token_in_http_logs,
)
from bot.channels.telegram_updates import Inbound
from bot.config import Settings

logger = logging.getLogger(__name__)

TEXT_ONLY_REPLY = "Sorry, I can only read text for now."
WELCOME_TEXT = "/greet"
"""What `/start` feeds Rasa: built here, never taken from the shopper."""
_LOGS = WorkerLogs(
    logger=logger,
    duplicate="Telegram update delivered again: ignored",
    duplicate_level=logging.DEBUG,
    failure_details="Telegram update failure",
)


class UpdateProcessor:
    """Runs accepted updates in the background, in order per chat, each at most once.

    Args:
        settings: the channel's settings (bot token, Bot API address, guard, limits).
        on_new_message: Rasa's handler.
        first_delivery: the duplicate check (`bot.channels.inbound.receipts`).
    """

    def __init__(
        self, settings: Settings, on_new_message: OnNewMessage, first_delivery: FirstDelivery
    ) -> None:
        self._settings = settings
        self._on_new_message = on_new_message
        self._shopper_message = guarded(
            on_new_message, settings=settings, limits=RateLimits.from_settings(settings)
        )
        self._payloads = CallbackPayloads()
        self._sender: TelegramSender | None = None
        self._worker = InboundWorker(self._process, first_delivery=first_delivery, logs=_LOGS)

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
        self._worker.submit(
            inbound,
            conversation=str(inbound.chat_id),
            keys=(f"update:{inbound.update_id}",),
            what=f"Telegram {inbound.kind} update",
        )

    async def _process(self, inbound: Inbound) -> None:
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
        await self._worker.close(SHUTDOWN_GRACE_SECONDS)
        if self._sender is not None:
            await self._sender.close()
