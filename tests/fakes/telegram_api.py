"""A fake Telegram Bot API on 127.0.0.1 for the real python-telegram-bot client.

It answers `getMe`, `sendMessage`, `answerCallbackQuery`, `setWebhook` and
`deleteWebhook` at `/bot<token>/<method>` with Telegram-shaped JSON, records every
call (method, parameters as sent, monotonic time, status) and can answer the next
sendMessage calls with 429 `retry_after` (`fail_next_sends`) or with another error,
e.g. 403 "bot was blocked by the user" (`reject_next_sends`). Point PTB at it with
`Bot(token, base_url=f"{fake.url}/bot")`. Starlette + uvicorn in a background thread.

Also here: builders of webhook updates in the shapes Telegram documents
(https://core.telegram.org/bots/api#update).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import LocalServer

BOT_USER = {
    "id": 123,
    "is_bot": True,
    "first_name": "Calmly",
    "username": "calmly_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
T = TypeVar("T")


@dataclass(frozen=True)
class ApiCall:
    """One request the fake received; `params` are the form values exactly as sent."""

    method: str
    params: dict[str, str]
    at: float
    status: int

    @property
    def chat_id(self) -> str | None:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        return self.params.get("text", "")

    def markup(self) -> dict[str, Any] | None:
        raw = self.params.get("reply_markup")
        return json.loads(raw) if raw else None

    def button_data(self) -> list[str]:
        """The callback_data of every inline button, in order."""
        keyboard = (self.markup() or {}).get("inline_keyboard", [])
        return [button["callback_data"] for row in keyboard for button in row]


def _error(code: int, description: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": code, "description": description, **extra}, code
    )


class FakeTelegramApi:
    """The fake server; use as a context manager or call start() / stop()."""

    def __init__(self, token: str = "123:TEST") -> None:
        self.token = token
        self._lock = threading.Lock()
        self._calls: list[ApiCall] = []
        self._fail_sends = 0
        self._retry_after = 1
        self._rejections: list[tuple[int, str]] = []
        self._message_ids = itertools.count(1)
        app = Starlette(routes=[Route("/bot{token}/{method}", self._handle, methods=["POST"])])
        self._server = LocalServer(app, "fake Telegram API")
        self.url = self._server.url

    @property
    def base_url(self) -> str:
        """What to give PTB (and TELEGRAM_BASE_URL): the token is appended to it."""
        return f"{self.url}/bot"

    def start(self) -> FakeTelegramApi:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeTelegramApi:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- behaviour -----------------------------------------------------------------

    def fail_next_sends(self, count: int, retry_after: int = 1) -> None:
        """Answer the next `count` sendMessage calls with 429 Too Many Requests."""
        with self._lock:
            self._fail_sends, self._retry_after = count, retry_after

    def reject_next_sends(
        self,
        count: int,
        code: int = 403,
        description: str = "Forbidden: bot was blocked by the user",
    ) -> None:
        """Answer the next `count` sendMessage calls with error `code` (not a rate limit)."""
        with self._lock:
            self._rejections.extend([(code, description)] * count)

    def _take_rejection(self) -> tuple[int, str] | None:
        with self._lock:
            return self._rejections.pop(0) if self._rejections else None

    async def _handle(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = await self._params(request)
        if request.path_params["token"] != self.token:
            return self._record(method, params, _error(401, "Unauthorized"))
        rejection = self._take_rejection() if method == "sendMessage" else None
        if rejection is not None:
            return self._record(method, params, _error(*rejection))
        if method == "sendMessage" and self._take_failure():
            answer = _error(
                429,
                f"Too Many Requests: retry after {self._retry_after}",
                parameters={"retry_after": self._retry_after},
            )
            return self._record(method, params, answer)
        result = self._result(method, params)
        if result is None:
            return self._record(method, params, _error(404, "Not Found: method not found"))
        return self._record(method, params, JSONResponse({"ok": True, "result": result}))

    @staticmethod
    async def _params(request: Request) -> dict[str, str]:
        body = (await request.body()).decode()
        if request.headers.get("content-type", "").startswith("application/json"):
            data = json.loads(body or "{}")
            return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
        return dict(parse_qsl(body, keep_blank_values=True))

    def _take_failure(self) -> bool:
        with self._lock:
            if self._fail_sends <= 0:
                return False
            self._fail_sends -= 1
            return True

    def _result(self, method: str, params: dict[str, str]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "sendMessage":
            return self._message(params)
        if method in ("answerCallbackQuery", "setWebhook", "deleteWebhook"):
            return True
        return None

    def _message(self, params: dict[str, str]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
            "text": params.get("text", ""),
        }
        if params.get("reply_markup"):
            message["reply_markup"] = json.loads(params["reply_markup"])
        return message

    def _record(self, method: str, params: dict[str, str], answer: JSONResponse) -> JSONResponse:
        with self._lock:
            self._calls.append(ApiCall(method, params, time.monotonic(), answer.status_code))
        return answer

    # --- inspection ----------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def sent(self, chat_id: int | None = None) -> list[ApiCall]:
        """sendMessage calls that were answered with success, optionally for one chat."""
        return [
            c
            for c in self.calls("sendMessage")
            if c.status == 200 and (chat_id is None or c.chat_id == str(chat_id))
        ]

    def wait_for(self, condition: Callable[[], T | None], timeout: float = 20) -> T:
        """Poll `condition` until it returns something truthy; fail after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met in {timeout}s; calls: {self.calls()}")
            time.sleep(0.05)

    def wait_for_sent(self, chat_id: int, count: int, timeout: float = 20) -> list[ApiCall]:
        """The first `count` messages sent to `chat_id`, once at least that many were."""

        def enough() -> list[ApiCall] | None:
            sent = self.sent(chat_id)
            return sent[:count] if len(sent) >= count else None

        return self.wait_for(enough, timeout)


# --- updates, as Telegram posts them to the webhook ------------------------------------


_update_ids = itertools.count(10_000)


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Alex", "language_code": "en"}


def private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Alex"}


def group_chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": "Calmly fans"}


def _message(user_id: int, chat: dict[str, Any] | None, **content: Any) -> dict[str, Any]:
    return {
        "message_id": next(_update_ids),
        "from": _user(user_id),
        "chat": chat or private_chat(user_id),
        "date": int(time.time()),
        **content,
    }


def next_update_id() -> int:
    return next(_update_ids)


def text_update(user_id: int, text: str, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    """A text message (a `/command` gets its bot_command entity, as Telegram adds one)."""
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        length = len(text.split()[0]) if text.split() else 1
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": next_update_id(), "message": _message(user_id, chat, **content)}


def sticker_update(user_id: int) -> dict[str, Any]:
    sticker = {
        "file_id": "CAACAgIAAxkBAAEB",
        "file_unique_id": "AgADBAADx",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    }
    return {"update_id": next_update_id(), "message": _message(user_id, None, sticker=sticker)}


def edited_update(user_id: int, text: str) -> dict[str, Any]:
    edited = _message(user_id, None, text=text, edit_date=int(time.time()))
    return {"update_id": next_update_id(), "edited_message": edited}


def callback_update(user_id: int, data: str) -> dict[str, Any]:
    """A press on an inline button of a message the bot sent to the shopper's private chat."""
    bot_message = {
        "message_id": next(_update_ids),
        "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
        "chat": private_chat(user_id),
        "date": int(time.time()),
        "text": "(the bot's question)",
    }
    query = {
        "id": str(next(_update_ids)),
        "from": _user(user_id),
        "message": bot_message,
        "chat_instance": "-1234567890",
        "data": data,
    }
    return {"update_id": next_update_id(), "callback_query": query}
