"""The action server process: Rapport's dialogue actions, answering only Rasa.

`rasa run actions` answers anyone who can reach the port: a page open in a browser on
the same host can POST a made-up tracker as `text/plain` (no CORS preflight) and run
"what do you know about me" for any shopper. `rapport actions` serves rasa_sdk's action
executor in an app of its own (no CORS at all), with the dialogue actions built once
from the composition root (bot/bootstrap.py), and:

- a shared secret: every request but `GET /health` must carry `X-Rapport-Action-Secret`
  (Rasa sends it: endpoints.yml `action_endpoint.headers`), compared in constant time;
  a missing one is 401, a wrong one 403. Nothing depends on the caller's address, so
  the action server can run on another host.
- bodies: Sanic refuses more than SANIC_REQUEST_MAX_SIZE unread (413). A `deflate` body
  (Rasa's COMPRESS_ACTION_SERVER_REQUEST) is inflated here at most to the same limit
  (413 beyond); any other Content-Encoding is 415.
- calls checked for the shape Rasa sends (`call_problem`): anything that is not a JSON
  object with an action name and a tracker is 400 before the executor reads it.
- errors answered without echoing the request (rasa_sdk's own app returned the whole
  tracker, shopper text included, in its error body and logged the request).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import zlib
from typing import Any, Sequence

from rasa_sdk import Action
from rasa_sdk import utils as sdk_utils
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.adapters.secret_files import named_secret, private_process
from bot.config import Settings

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

    @app.middleware("request")  # type: ignore[no-untyped-call]
    async def authenticate(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        status = secret_verdict(request.headers.get(SECRET_HEADER), secret)
        if status is not None:
            logger.warning("action server request without a valid secret refused (%d)", status)
            return _refusal(status, "this endpoint answers Rasa only")
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > max_body:
            # Sanic has not read a body it will refuse: answer from the header alone.
            return _refusal(413, f"the body must be at most {max_body} bytes")
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
                request.ctx.call = json.loads(request.body or b"")
            except ValueError:
                return _refusal(400, "the body must be JSON")
            problem = call_problem(request.ctx.call)
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


def build_app(settings: Settings, actions: Sequence[Action]) -> Sanic:
    """An app that runs `actions` for Rasa, protected (see the module docstring)."""
    app = Sanic("rapport_actions", configure_logging=False)
    if "SANIC_REQUEST_MAX_SIZE" not in os.environ:  # Sanic's own default is 100 MB
        app.config.REQUEST_MAX_SIZE = DEFAULT_MAX_BODY
    executor = ActionExecutor()
    for action in actions:
        executor.register_action(action)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/actions")
    async def names(_: Request) -> HTTPResponse:
        return response.json([{"name": name} for name in executor.actions])

    @app.post("/webhook")
    async def webhook(request: Request) -> HTTPResponse:
        call = request.ctx.call  # parsed and checked by `authenticate`
        sdk_utils.check_version_compatibility(call.get("version"))
        try:
            result = await executor.run(call)
        except ActionExecutionRejection as rejection:
            return response.json({"error": rejection.message}, status=400)
        except ActionNotFoundException:
            return _refusal(404, "no such action")
        return response.json(result)

    protect(app, named_secret(settings, "action"), max_body=int(app.config.REQUEST_MAX_SIZE))
    return app


def serve(settings: Settings, *, log_level: str = "INFO", **run: Any) -> None:
    """Run the action server until stopped (what `rapport actions` does)."""
    from actions.conversation import dialogue_actions
    from bot.bootstrap import build

    private_process(settings)
    sdk_utils.configure_colored_logging(log_level)
    sdk_utils.update_sanic_log_level()
    services = build(settings)
    app = build_app(settings, dialogue_actions(services.conversation, settings))
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
