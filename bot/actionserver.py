"""The action server process: rasa_sdk's app, answering only Rasa, with bounded bodies.

`rasa run actions` answers anyone who can reach the port: a page open in a browser on
the same host can POST a made-up tracker as `text/plain` (no CORS preflight) and run
"what do you know about me" for any shopper. `rapport actions` serves the same
rasa_sdk app with:

- a shared secret: every request but `GET /health` must carry `X-Rapport-Action-Secret`
  (Rasa sends it: endpoints.yml `action_endpoint.headers`), compared in constant time;
  a missing one is 401, a wrong one 403. Nothing depends on the caller's address, so
  the action server can run on another host.
- bodies: Sanic refuses more than SANIC_REQUEST_MAX_SIZE unread (413, not rasa_sdk's
  500). A `deflate` body (Rasa's COMPRESS_ACTION_SERVER_REQUEST) is inflated here at
  most to the same limit (413 beyond); any other Content-Encoding is 415.
- the check runs before everything else, also before the CORS middleware rasa_sdk
  installs (which answered `OPTIONS` with 200 to anyone).
- errors answered without echoing the request: rasa_sdk's own handler returns the
  whole tracker (shopper text) in the error body and logs the request.
- calls checked for the shape Rasa sends (`call_problem`) before rasa_sdk reads them: a
  call that is not a JSON object with an action name and a tracker is 400, not a 500
  from deep inside rasa_sdk (or a 404 that echoes whatever name was sent).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import zlib
from typing import Any

from rasa_sdk import utils as sdk_utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings
from bot.services.secret_files import named_secret, private_process

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Rapport-Action-Secret"
OPEN_PATHS = frozenset({"/health"})
DEFAULT_MAX_BODY = 16 * 1024 * 1024
ACTION_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_TRACKER_FIELDS: dict[str, tuple[type, ...]] = {
    "slots": (dict,),
    "latest_message": (dict, type(None)),
    "events": (list,),
    "paused": (bool,),
    "followup_action": (str, type(None)),
    "active_loop": (dict,),
    "latest_action_name": (str, type(None)),
}


def _refusal(status: int, error: str) -> HTTPResponse:
    return response.json({"error": error}, status=status)


def secret_verdict(given: str | None, secret: str) -> int | None:
    """None when `given` is the shared secret; else the status to refuse with (401/403)."""
    if not given:
        return 401
    if not hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8")):
        return 403
    return None


def call_problem(call: Any) -> str | None:
    """None when `call` has the shape of Rasa's action call; else what is wrong with it."""
    if not isinstance(call, dict):
        return "an action call is a JSON object"
    name = call.get("next_action")
    if not isinstance(name, str) or not ACTION_NAME.fullmatch(name):
        return "next_action must be an action's name"
    tracker = call.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        return "tracker must be an object with a sender_id"
    for key, types in _TRACKER_FIELDS.items():
        if key in tracker and not isinstance(tracker[key], types):
            return f"tracker.{key} has the wrong type"
    if not all(isinstance(event, dict) for event in tracker.get("events", [])):
        return "tracker.events must be a list of objects"
    if not isinstance(call.get("domain", {}), dict):
        return "domain must be an object"
    if not isinstance(call.get("version", ""), str):
        return "version must be a string"
    return None


def inflate(body: bytes, limit: int) -> bytes | None:
    """The inflated `body` (zlib/deflate), or None when it is larger than `limit` or broken."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        return None
    if len(data) > limit or inflater.unconsumed_tail or not inflater.eof:
        return None
    return data


def protect(app: Sanic, secret: str, *, max_body: int) -> None:
    """Add the shared-secret check, the body rules and a quiet error handler to `app`."""

    async def authenticate(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        status = secret_verdict(request.headers.get(SECRET_HEADER), secret)
        if status is not None:
            logger.warning("action server request without a valid secret refused (%d)", status)
            return _refusal(status, "this endpoint answers Rasa only")
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding == "deflate":
            inflated = inflate(request.body or b"", max_body)
            if inflated is None:
                return _refusal(413, f"the inflated body must be at most {max_body} bytes")
            request.body = inflated
            del request.headers["content-encoding"]
        elif encoding not in ("", "identity"):
            return _refusal(415, "only identity or deflate bodies are accepted")
        if request.method == "POST" and request.path == "/webhook":
            try:
                problem = call_problem(json.loads(request.body or b""))
            except ValueError:
                problem = "the body must be JSON"
            if problem is not None:
                return _refusal(400, problem)
        return None

    async def too_large(request: Request, exception: Exception) -> HTTPResponse:
        return _refusal(413, f"the body must be at most {max_body} bytes")

    async def quiet(request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException) and exception.status_code < 500:
            return _refusal(exception.status_code, "request refused")
        # The exception text may quote the tracker: its type only, details at DEBUG.
        logger.error("action server error: %s", type(exception).__name__)
        logger.debug("action server error details", exc_info=exception)
        return _refusal(500, "the action failed")

    app.error_handler.add(PayloadTooLarge, too_large)
    app.error_handler.add(Exception, quiet)

    async def secret_first(started: Sanic, _: Any) -> None:
        # rasa_sdk's CORS (sanic-cors, automatic_options) puts its middleware first when
        # the server starts and answers OPTIONS itself with 200, unauthenticated; this
        # listener runs after it and puts the secret check in front of it.
        started.request_middleware.appendleft(authenticate)

    app.register_listener(secret_first, "before_server_start")


def build_app(settings: Settings, *, actions_package: str = "actions") -> Sanic:
    """rasa_sdk's app for `actions_package`, protected (see the module docstring)."""
    app = create_app(actions_package, cors_origins=[])
    if "SANIC_REQUEST_MAX_SIZE" not in os.environ:  # Sanic's own default is 100 MB
        app.config.REQUEST_MAX_SIZE = DEFAULT_MAX_BODY
    max_body = int(app.config.REQUEST_MAX_SIZE)
    protect(app, named_secret(settings, "action"), max_body=max_body)
    return app


def serve(settings: Settings, *, log_level: str = "INFO", **run: Any) -> None:
    """Run the action server until stopped (what `rapport actions` does)."""
    private_process(settings)
    sdk_utils.configure_colored_logging(log_level)
    sdk_utils.update_sanic_log_level()
    app = build_app(settings)
    logger.info("action server on http://%s:%d", settings.actions_host, settings.actions_port)
    workers = sdk_utils.number_of_sanic_workers()
    app.run(settings.actions_host, settings.actions_port, workers=workers, **run)


__all__ = [
    "SECRET_HEADER",
    "build_app",
    "call_problem",
    "inflate",
    "protect",
    "secret_verdict",
    "serve",
]
