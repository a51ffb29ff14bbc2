"""The shopper's one-time export download: `GET /export/{token}` shows, `POST` downloads.

Only a POST uses the link up, so a chat app's link preview (which GETs every
link it sees) cannot spend it. Tokens are 256-bit; the store keeps only their
SHA-256. Unknown, used and expired links all get the same 410 page.
"""

from __future__ import annotations

import json
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.bootstrap import Services
from bot.config import Settings

EXPORT_PATH = "/export/{token}"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

PAGE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
PRIVATE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex",
}


def export_route(services: Services, settings: Settings, templates: Jinja2Templates) -> Route:
    """The route serving export links for the web app."""

    def page(request: Request, *, live: bool) -> Response:
        reply = templates.TemplateResponse(
            request,
            "export.html",
            {
                "live": live,
                "shop_name": settings.shop_name,
                "minutes": settings.export_link_minutes,
            },
            status_code=200 if live else 410,
        )
        reply.headers.update(PRIVATE_HEADERS)
        return reply

    async def export(request: Request) -> Response:
        token = str(request.path_params["token"])
        if not _TOKEN.match(token):
            return page(request, live=False)
        exports = services.exports
        if request.method == "GET":
            return page(request, live=await run_in_threadpool(exports.is_live, token))
        document = await run_in_threadpool(exports.claim, token)
        if document is None:
            return page(request, live=False)
        body = json.dumps(document, ensure_ascii=False, indent=2, default=str)
        headers = {
            **PRIVATE_HEADERS,
            "Content-Disposition": 'attachment; filename="my-data.json"',
        }
        return Response(body, media_type="application/json", headers=headers)

    return Route(EXPORT_PATH, export, methods=["GET", "POST"])
