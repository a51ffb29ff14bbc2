"""Starlette app serving the web chat page, its locally vendored assets and the shop API."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.bootstrap import Services, build
from bot.config import Settings
from bot.web.api import MAX_BODY_BYTES, ORDERS_PATH, orders_route
from bot.web.exports import export_route
from bot.web.limits import DEFAULT_MAX_BODY_BYTES, BodyLimits
from bot.web.origins import AllowedOrigins

HERE = Path(__file__).resolve().parent


def rasa_origins(rasa_url: str) -> str:
    """The HTTP and WebSocket origins of `rasa_url`, space-separated, for `connect-src`."""
    parts = urlsplit(rasa_url)
    secure = parts.scheme == "https"
    http, ws = ("https", "wss") if secure else ("http", "ws")
    return f"{http}://{parts.netloc} {ws}://{parts.netloc}"


def content_security_policy(rasa_url: str) -> str:
    """Only our own scripts and styles; network traffic only to Rasa."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {rasa_origins(rasa_url)}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def create_app(settings: Settings, *, services: Services | None = None) -> Starlette:
    """The web app for `settings`, on `services` (by default built for `settings`).

    The store's connections open with the first request that needs one.
    """
    services = services or build(settings)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    vendor_dir = settings.var_dir / "vendor"
    vendor_dir.mkdir(parents=True, exist_ok=True)
    csp = content_security_policy(settings.rasa_url)

    async def chat_page(request: Request) -> Response:
        page: HTMLResponse = templates.TemplateResponse(
            request,
            "chat.html",
            {
                "rasa_url": settings.rasa_url,
                "shop_name": settings.shop_name,
                "max_chars": settings.max_message_chars,
            },
        )
        page.headers["Content-Security-Policy"] = csp
        return page

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        services.close()

    # Every route refuses a body over its limit with 413 (docs/security.md): the orders
    # API streams up to 10 MiB; nothing else reads a body, so 1 KiB is plenty.
    limits = Middleware(
        BodyLimits, default=DEFAULT_MAX_BODY_BYTES, streamed={ORDERS_PATH: MAX_BODY_BYTES}
    )
    origins = Middleware(AllowedOrigins, allowed=settings.allowed_origins)
    return Starlette(
        lifespan=lifespan,
        middleware=[origins, limits],
        routes=[
            Route("/", chat_page),
            Route("/healthz", health),
            orders_route(services),
            export_route(services, settings, templates),
            Mount("/static/vendor", StaticFiles(directory=str(vendor_dir)), name="vendor"),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
    )
