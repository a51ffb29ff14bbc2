"""A fake Slack Web API on 127.0.0.1 for tests: answers like Slack, records every call.

Runs Starlette under uvicorn in a background thread. `chat.postMessage`,
`chat.postEphemeral`, `conversations.open` and `auth.test` answer with Slack-shaped
JSON; any other method answers `{"ok": false, "error": "unknown_method"}`.
`conversations.open` with one user gives that user's DM, always `dm_of(user)`
("D" + the user id). The next calls of a method can be made to fail (`fail_next`,
`fail_next_posts`: `{"ok": false, "error": ...}`) or be rate limited
(`rate_limit_next_posts`: HTTP 429 with `Retry-After`). slack_sdk sends JSON bodies
for methods with blocks, form bodies or query strings for others: all are parsed, and
a `blocks` form field (a JSON string) is decoded, so assertions see the same shape.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import LocalServer

BOT_USER_ID = "UBOTRAPPORT"
BOT_ID = "BRAPPORT01"
TEAM_ID = "TCALMLY01"


def dm_of(user: str) -> str:
    """The id of `user`'s DM with the bot, as the fake's `conversations.open` gives it."""
    return f"D{user}"


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake received it."""

    method: str
    params: dict[str, Any]
    token: str | None
    ts: str | None = None
    """The `ts` the fake gave a posted message (what a button click refers to)."""
    at: float = field(default_factory=time.monotonic)
    """`time.monotonic()` when the call arrived."""
    status: int = 200
    """The HTTP status the fake answered with."""

    @property
    def channel(self) -> str | None:
        value = self.params.get("channel")
        return value if isinstance(value, str) else None

    @property
    def user(self) -> str | None:
        """`user` (chat.postEphemeral) or `users` (conversations.open)."""
        value = self.params.get("user", self.params.get("users"))
        return value if isinstance(value, str) else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.params.get("blocks")
        return blocks if isinstance(blocks, list) else []

    def buttons(self) -> list[dict[str, Any]]:
        """Every button element in the posted blocks."""
        return [
            element
            for block in self.blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("type") == "button"
        ]


async def _params(request: Request) -> dict[str, Any]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        parsed = json.loads(body or b"{}")
        return parsed if isinstance(parsed, dict) else {}
    params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
    params.update({k: v for k, v in request.query_params.items() if k not in params})
    if isinstance(params.get("blocks"), str):
        params["blocks"] = json.loads(params["blocks"])
    return params


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


class FakeSlackApi:
    """Start with `start()`; point slack_sdk at `f"{url}/api/"`; read `calls()`."""

    def __init__(self, token: str = "xoxb-test") -> None:
        self.token = token
        self._calls: list[Call] = []
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        self._failures: dict[str, list[tuple[int, str | int]]] = {}
        """Pending outcomes of the next calls, by method: (200, error) or (429, seconds)."""
        app = Starlette(routes=[Route("/api/{method}", self._endpoint, methods=["GET", "POST"])])
        self._server = LocalServer(app, "fake Slack API")
        self.url = self._server.url

    def start(self) -> FakeSlackApi:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    # --- recorded calls -----------------------------------------------------------------

    def calls(self, method: str | None = None, *, channel: str | None = None) -> list[Call]:
        with self._changed:
            return [
                c
                for c in self._calls
                if (method is None or c.method == method)
                and (channel is None or c.channel == channel)
            ]

    def posts(self, channel: str) -> list[Call]:
        """`chat.postMessage` calls into `channel`, oldest first."""
        return self.calls("chat.postMessage", channel=channel)

    def ephemerals(self, channel: str) -> list[Call]:
        """`chat.postEphemeral` calls into `channel`, oldest first (`Call.user` saw them)."""
        return self.calls("chat.postEphemeral", channel=channel)

    def opened(self, user: str) -> list[Call]:
        """`conversations.open` calls for `user` alone, oldest first."""
        return [c for c in self.calls("conversations.open") if c.user == user]

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Block until `condition()` holds (re-checked on each recorded call) or `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def wait_for_posts(self, channel: str, count: int, timeout: float) -> list[Call]:
        """At least `count` posts into `channel` within `timeout` seconds, or AssertionError."""
        if not self.wait_for(lambda: len(self.posts(channel)) >= count, timeout):
            posts = [p.text for p in self.posts(channel)]
            raise AssertionError(f"expected {count} posts in {timeout}s, got {posts}")
        return self.posts(channel)

    # --- failures -----------------------------------------------------------------------

    def fail_next(self, method: str, count: int, error: str) -> None:
        """Answer the next `count` calls of `method` with `{"ok": false, "error": error}`."""
        with self._changed:
            self._failures.setdefault(method, []).extend([(200, error)] * count)

    def fail_next_posts(self, count: int, error: str = "channel_not_found") -> None:
        """Answer the next `count` chat.postMessage calls with `{"ok": false, "error": error}`."""
        self.fail_next("chat.postMessage", count, error)

    def rate_limit_next_posts(self, count: int, retry_after: int = 1) -> None:
        """Answer the next `count` chat.postMessage calls with HTTP 429 and `Retry-After`."""
        with self._changed:
            self._failures.setdefault("chat.postMessage", []).extend([(429, retry_after)] * count)

    def _take_failure(self, method: str) -> tuple[int, str | int] | None:
        with self._changed:
            pending = self._failures.get(method)
            return pending.pop(0) if pending else None

    # --- the API ------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = await _params(request)
        token = _token(request)
        failure = self._take_failure(method) if token == self.token else None
        status = 200
        headers: dict[str, str] = {}
        if failure is None:
            answer = self._answer(method, params, token)
        elif failure[0] == 429:
            status, headers = 429, {"Retry-After": str(failure[1])}
            answer = {"ok": False, "error": "ratelimited"}
        else:
            answer = {"ok": False, "error": str(failure[1])}
        call = Call(method=method, params=params, token=token, ts=answer.get("ts"), status=status)
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        return JSONResponse(answer, status_code=status, headers=headers)

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if token != self.token:
            return {"ok": False, "error": "invalid_auth"}
        if method == "chat.postMessage":
            return self._posted(params)
        if method == "chat.postEphemeral":
            return self._ephemeral(params)
        if method == "conversations.open":
            return self._opened(params)
        if method == "auth.test":
            return {"ok": True, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID}
        return {"ok": False, "error": "unknown_method"}

    def _posted(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not isinstance(channel, str) or not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {
            "type": "message",
            "text": params.get("text", ""),
            "blocks": params.get("blocks", []),
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": ts,
        }
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, user = params.get("channel"), params.get("user")
        if not isinstance(channel, str) or not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not isinstance(user, str) or not user:
            return {"ok": False, "error": "user_not_in_channel"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}

    def _opened(self, params: dict[str, Any]) -> dict[str, Any]:
        users = params.get("users")
        if not isinstance(users, str) or not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if "," in users:
            return {"ok": False, "error": "not_supported_by_the_fake"}
        return {"ok": True, "channel": {"id": dm_of(users)}}
