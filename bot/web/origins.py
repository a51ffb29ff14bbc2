"""Only pages of the configured origins may call the web app from a browser.

Browsers send `Origin` with every cross-site request that is not a plain navigation
(fetch, XHR, form posts, WebSocket handshakes) and with same-site POSTs. A request
whose `Origin` is not in RAPPORT_ALLOWED_ORIGINS gets 403 before any route runs;
requests without `Origin` (navigations, the shop's servers calling the orders API,
command-line clients) are judged by the route's own authentication. `Origin: null`
(sandboxed frames, `file:` pages, some redirects) is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class AllowedOrigins:
    """ASGI middleware: 403 for a browser request from an origin not in `allowed`."""

    def __init__(self, app: ASGIApp, *, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(origin.lower() for origin in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            origin = Headers(scope=scope).get("origin")
            if origin is not None and origin.strip().lower().rstrip("/") not in self.allowed:
                refused = JSONResponse(
                    {"error": "requests from this origin are not accepted"}, status_code=403
                )
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
