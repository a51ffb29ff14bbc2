"""Request body limits for every route of the web app: 413 beyond them, before the body is read.

Starlette (1.6+) has `max_body_size`, but it only counts the bytes an endpoint reads
(a page or a static file that never reads its body would take an endless chunked
upload and answer 200) and answers 413 in plain text, where the orders API documents
`{"error": "..."}`. So this middleware:

- refuses a declared `Content-Length` over the route's limit at once, without calling
  the route and without reading anything;
- for routes that do not read a body (the chat page, `/healthz`, static files, export
  links, unknown paths), reads the body first, at most `limit` bytes, and refuses it as
  soon as it is larger, so a chunked body is refused too;
- for routes that stream their body themselves (`streamed`: the orders API, 10 MiB),
  counts the bytes as the route reads them and refuses the request once they go over.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 1024
"""Routes that take no body: 1 KiB leaves room for a form's button and nothing more."""


class BodyTooLarge(Exception):
    """Raised from `receive` once a streamed body goes over its limit."""


def too_large(limit: int) -> JSONResponse:
    """The 413 answer."""
    return JSONResponse({"error": f"the body must be at most {limit} bytes"}, status_code=413)


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header as a number; None when absent; -1 when not a number."""
    values = Headers(scope=scope).getlist("content-length")
    if not values:
        return None
    if len(set(values)) != 1 or not (values[0].isascii() and values[0].isdigit()):
        return -1
    return int(values[0])


class BodyLimits:
    """ASGI middleware: at most `default` bytes of body per request, `streamed[path]` there."""

    def __init__(self, app: ASGIApp, *, default: int, streamed: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.streamed = dict(streamed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        streamed = scope["path"] in self.streamed
        limit = self.streamed[scope["path"]] if streamed else self.default
        declared = _declared_length(scope)
        if declared == -1:
            invalid = JSONResponse({"error": "invalid Content-Length"}, status_code=400)
            await invalid(scope, receive, send)
        elif declared is not None and declared > limit:
            await too_large(limit)(scope, receive, send)
        elif streamed:
            await self._counted(scope, receive, send, limit)
        else:
            await self._read_first(scope, receive, send, limit)

    async def _read_first(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the route see it as it would have.
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        size = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await too_large(limit)(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` that first hands out `messages`, then waits on the real one (disconnects)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
