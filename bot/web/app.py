"""Starlette app serving the web chat page and its locally vendored assets."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.config import Settings

HERE = Path(__file__).resolve().parent


def create_app(settings: Settings) -> Starlette:
    """The web app for `settings` (nothing is opened until a request arrives)."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    vendor_dir = settings.var_dir / "vendor"
    vendor_dir.mkdir(parents=True, exist_ok=True)

    async def chat_page(request: Request) -> Response:
        return templates.TemplateResponse(
            request, "chat.html", {"rasa_url": settings.rasa_url, "shop_name": settings.shop_name}
        )

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/", chat_page),
            Route("/healthz", health),
            Mount("/static/vendor", StaticFiles(directory=str(vendor_dir)), name="vendor"),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ]
    )
