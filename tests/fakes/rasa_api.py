"""A fake of Rasa's HTTP API on 127.0.0.1 for Rapport's own client (bot/adapters/rasa_api.py).

It serves the three calls Rapport makes on conversations: `GET .../tracker`,
`PUT .../tracker/events` (replace) and `POST .../tracker/events` (append), keeps each
conversation's events, and refuses any request without a JWT signed with its secret
(401), as Rasa started with `--jwt-secret` does. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import LocalServer


@dataclass(frozen=True)
class RasaCall:
    """One request: method, conversation id, query parameters and JSON body."""

    method: str
    sender: str
    query: dict[str, str]
    body: Any


class FakeRasaApi:
    """Use as a context manager; give Rapport `url` as RAPPORT_RASA_URL."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._lock = threading.Lock()
        self._calls: list[RasaCall] = []
        self.events: dict[str, list[dict[str, Any]]] = {}
        route = Route(
            "/conversations/{sender}/tracker{rest:path}",
            self._handle,
            methods=["GET", "PUT", "POST"],
        )
        self._server = LocalServer(Starlette(routes=[route]), "fake Rasa API")
        self.url = self._server.url

    def __enter__(self) -> FakeRasaApi:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    def calls(self) -> list[RasaCall]:
        with self._lock:
            return list(self._calls)

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return False
        return scheme == "Bearer" and claims.get("user", {}).get("role") == "admin"

    async def _handle(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return JSONResponse({"status": "failure", "reason": "NotAuthenticated"}, 401)
        sender = request.path_params["sender"]
        raw = await request.body()
        body = json.loads(raw) if raw else None
        call = RasaCall(request.method, sender, dict(request.query_params), body)
        with self._lock:
            self._calls.append(call)
            events = self.events.setdefault(sender, [])
            if request.method == "PUT":
                events[:] = list(body or [])
            elif request.method == "POST":
                events.extend(body if isinstance(body, list) else [body])
            return JSONResponse({"sender_id": sender, "events": list(events)})
