"""Shoppers on Telegram for end-to-end tests: deliver updates, wait for the bot's answers."""

from __future__ import annotations

import itertools
import random
from typing import Any

from tests.fakes.telegram_api import FakeTelegramApi, callback_update, text_update
from tests.harness import Stack, http_json

_users = itertools.count(random.randint(10**8, 9 * 10**8))


class TelegramShopper:
    """One private Telegram chat with the bot, driven through the real webhook."""

    def __init__(self, stack: Stack, fake: FakeTelegramApi, secret: str) -> None:
        self.stack = stack
        self.fake = fake
        self.secret = secret
        self.user = next(_users)

    def texts(self) -> list[str]:
        """Everything the bot sent this chat so far."""
        return [call.text for call in self.fake.sent(self.user)]

    def deliver(self, update: dict[str, Any]) -> None:
        url = f"{self.stack.rasa_url}/webhooks/telegram/webhook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        status, body = http_json("POST", url, update, headers=headers)
        assert status == 200, (status, body)

    def say(self, text: str, until: str) -> list[str]:
        """Send `text`; the bot's answers once one starting with `until` arrived."""
        return self._turn(text_update(self.user, text), until)

    def press(self, payload: str, until: str) -> list[str]:
        """Press the inline button whose payload is `payload`."""
        return self._turn(callback_update(self.user, payload), until)

    def wait_for_text(self, start: str) -> str:
        """The first message to this chat starting with `start` (waits for it)."""

        def found() -> str | None:
            return next((t for t in self.texts() if t.startswith(start)), None)

        return self.fake.wait_for(found)

    def _turn(self, update: dict[str, Any], until: str) -> list[str]:
        before = len(self.texts())
        self.deliver(update)

        def answered() -> list[str] | None:
            new = self.texts()[before:]
            return new if any(t.startswith(until) for t in new) else None

        return self.fake.wait_for(answered)
