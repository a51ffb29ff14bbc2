"""Where the Telegram channel sends: one private chat, its buttons as an inline keyboard.

`TelegramOutput` answers the chat an update came from; `ConversationOutput` is what
Rasa's HTTP API sends through (`output_channel=telegram`): to the private chat whose id
is the conversation's sender id. A failed delivery is logged with the error's type only
and never breaks Rasa's turn.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from rasa.core.channels.channel import OutputChannel
from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.channels.telegram_sender import CallbackPayloads, TelegramSender, inline_keyboard

logger = logging.getLogger(__name__)

CHANNEL = "telegram"


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


class ConversationOutput(OutputChannel):
    """Sends to the private chat whose id is the conversation's sender id.

    Args:
        output_for: the output to one private chat, by its id.
    """

    def __init__(self, output_for: Callable[[int], TelegramOutput]) -> None:
        self._output_for = output_for

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def _output(self, recipient_id: str) -> TelegramOutput | None:
        if not recipient_id.isdigit():
            logger.warning("Telegram: not a private chat id, nothing sent")
            return None
        return self._output_for(int(recipient_id))

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
