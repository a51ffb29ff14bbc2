"""Rasa's HTTP API, as Rapport uses it: read a conversation's tracker, replace its events.

Rasa runs with `--enable-api --jwt-secret ... --jwt-method HS256` on 127.0.0.1. Every call
carries a fresh HS256 token with the admin role Rasa 3.6 checks (`rasa/server.py`
`requires_auth`: `{"user": {"username": ..., "role": "admin"}}`), valid for a minute.

Nothing here logs a sender id, an event or a token: conversation ids are shoppers' ids.
aiohttp (a Rasa dependency) is used because, unlike httpx, it does not log every request
URL, and URLs here name conversations.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any, Callable, Iterable

import aiohttp
import jwt

from bot.config import Settings
from bot.domain.errors import RapportError
from bot.domain.model import Identity
from bot.services.secret_files import load_or_create_secret

logger = logging.getLogger(__name__)

TOKEN_TTL_SECONDS = 60
SECRET_FILE = "rasa-jwt.secret"
# Identities that are not Rasa conversations (nothing to clear in the tracker store).
NOT_CONVERSATIONS = frozenset({"shop"})


class RasaApiError(RapportError):
    """Rasa answered a call with an error status."""

    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"Rasa's API refused to {what} (HTTP {status})")
        self.status = status


class Unaddressable(RasaApiError):
    """A conversation id Rasa's API cannot name (checked here, nothing is sent)."""

    def __init__(self) -> None:
        super().__init__("name this conversation id in a URL", 400)


class RasaUnreachable(RapportError):
    """Rasa's HTTP API could not be reached at all."""


# Sanic hands Rasa the raw path: a percent-encoded conversation id arrives encoded and
# names *another* conversation. Only ids made of characters that travel unencoded in
# a path segment can be addressed (every Telegram, Slack and web chat id; REST senders
# with spaces, slashes, "%", "?", "#" or non-ASCII letters cannot).
_ADDRESSABLE = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@-]+")


def addressable(sender: str) -> bool:
    """Whether Rasa's API can name this conversation id (so its chat can be cleared)."""
    return bool(_ADDRESSABLE.fullmatch(sender)) and sender not in (".", "..")


def jwt_secret(settings: Settings) -> str:
    """RAPPORT_RASA_JWT_SECRET, or the one generated once under var/ for `make run`."""
    return settings.rasa_jwt_secret or load_or_create_secret(settings.var_dir / SECRET_FILE)


def admin_token(secret: str, *, now: float | None = None, ttl: int = TOKEN_TTL_SECONDS) -> str:
    """A short-lived HS256 token with the admin role Rasa's API requires."""
    issued = int(time.time() if now is None else now)
    payload = {
        "user": {"username": "rapport", "role": "admin"},
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def conversation_ids(identities: Iterable[Identity]) -> list[str]:
    """The Rasa sender ids behind these identities (a sender id is the external id)."""
    return sorted({i.external_id for i in identities if i.channel not in NOT_CONVERSATIONS})


class RasaApi:
    """A client of Rasa's HTTP API; use as `async with RasaApi(url, secret) as api:`."""

    def __init__(self, base_url: str, secret: str, *, timeout: float = 30.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RasaApi:
        return cls(settings.rasa_url, jwt_secret(settings))

    async def __aenter__(self) -> RasaApi:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _url(self, sender: str) -> str:
        if not addressable(sender):
            raise Unaddressable()
        return f"{self._base_url}/conversations/{sender}/tracker"

    async def _call(self, what: str, method: str, url: str, **kwargs: Any) -> Any:
        if self._session is None:
            raise RuntimeError("RasaApi must be used as an async context manager")
        headers = {"Authorization": f"Bearer {admin_token(self._secret)}"}
        try:
            async with self._session.request(method, url, headers=headers, **kwargs) as reply:
                if reply.status != 200:
                    raise RasaApiError(what, reply.status)
                return await reply.json() if method == "GET" else None
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
            raise RasaUnreachable(f"Rasa's API is not reachable at {self._base_url}") from exc
        except aiohttp.ClientError as exc:  # e.g. an answer that is not JSON
            raise RasaApiError(what, 502) from exc

    async def get_tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker with every event (all sessions, also before restarts).

        Rasa creates an empty tracker for a conversation it does not know.
        """
        body = await self._call(
            "read a tracker", "GET", self._url(sender), params={"include_events": "ALL"}
        )
        if not isinstance(body, dict):
            raise RasaApiError("read a tracker", 502)
        return body

    async def replace_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Make `events` the conversation's whole history (`[]` erases it).

        Rasa takes the conversation's lock for this: never call it for the conversation
        whose action is running (see `forget_conversations_later`).
        """
        await self._call(
            "replace tracker events",
            "PUT",
            f"{self._url(sender)}/events",
            params={"include_events": "NONE"},
            json=events,
        )


# -- "forget me": clearing the trackers of every linked conversation ----------------------

ATTEMPTS = 6
FIRST_DELAY = 0.5

_background: set[asyncio.Task[None]] = set()


async def forget_conversations(
    api_factory: Callable[[], RasaApi],
    senders: list[str],
    *,
    attempts: int = ATTEMPTS,
    first_delay: float = FIRST_DELAY,
) -> list[str]:
    """Replace the events of each conversation with nothing, retrying with backoff.

    Returns the senders that could not be cleared (none when all went well).
    """
    remaining = list(senders)
    hopeless: list[str] = []
    delay = first_delay
    failure = ""
    for attempt in range(1, attempts + 1):
        failed: list[str] = []
        async with api_factory() as api:
            for sender in remaining:
                try:
                    await api.replace_events(sender, [])
                except (RasaApiError, RasaUnreachable) as exc:
                    (hopeless if isinstance(exc, Unaddressable) else failed).append(sender)
                    failure = type(exc).__name__ + (
                        f" {exc.status}" if isinstance(exc, RasaApiError) else ""
                    )
        remaining = failed
        if not remaining:
            break
        if attempt < attempts:
            await asyncio.sleep(delay)
            delay *= 2
    remaining += hopeless
    if not remaining:
        return []
    logger.warning(
        "Could not clear %d of %d conversation(s) from Rasa's tracker store (%s)",
        len(remaining),
        len(senders),
        failure,
    )
    return remaining


def forget_conversations_later(settings: Settings, identities: Iterable[Identity]) -> None:
    """Clear the Rasa trackers of these identities once the running action has returned.

    Rasa holds the lock of the conversation whose action is running, and replacing its
    events waits for that lock: awaited inside the action, it would wait for itself. The
    task is kept referenced until done; its requests queue behind the running turn.
    """
    senders = conversation_ids(identities)
    if not senders:
        return

    async def clear() -> None:
        try:
            failed = await forget_conversations(lambda: RasaApi.from_settings(settings), senders)
        except Exception as exc:  # never let a background task die silently
            logger.warning("Clearing conversations from Rasa failed: %s", type(exc).__name__)
            return
        if not failed:
            logger.info("Cleared %d conversation(s) from Rasa's tracker store", len(senders))

    task = asyncio.get_running_loop().create_task(clear())
    _background.add(task)
    task.add_done_callback(_background.discard)


async def wait_for_background() -> None:
    """Wait until every scheduled clearing is done (tests, shutdown)."""
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)
