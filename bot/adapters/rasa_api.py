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

from bot.adapters.secret_files import load_or_create_secret
from bot.config import Settings
from bot.domain.conversations import Notice, conversation_id
from bot.domain.errors import RapportError
from bot.domain.model import Identity

logger = logging.getLogger(__name__)

TOKEN_TTL_SECONDS = 60
SECRET_FILE = "rasa-jwt.secret"


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
    """The Rasa sender ids behind these identities (bot/domain/conversations.py)."""
    return sorted({c for c in map(conversation_id, identities) if c is not None})


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

    async def append_events(
        self, sender: str, events: list[dict[str, Any]], *, output_channel: str
    ) -> None:
        """Append `events` and send their bot messages through `output_channel`.

        Rasa executes the side effects (`execute_side_effects=true`): each `bot` event is
        sent to the conversation through that input channel's output.
        """
        await self._call(
            "append tracker events",
            "POST",
            f"{self._url(sender)}/events",
            params={
                "include_events": "NONE",
                "output_channel": output_channel,
                "execute_side_effects": "true",
            },
            json=events,
        )

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


# -- notices: a message to another of the shopper's chats --------------------------------


def notice_events(notice: Notice, *, slots: tuple[str, str]) -> list[dict[str, Any]]:
    """The events that leave a chat waiting on `notice` and say it (with its buttons)."""
    pending_slot, clarify_slot = slots
    buttons = [{"title": b.title, "payload": b.payload} for b in notice.message.buttons]
    return [
        {"event": "slot", "name": pending_slot, "value": notice.pending},
        {"event": "slot", "name": clarify_slot, "value": [notice.clarify]},
        {"event": "bot", "text": notice.message.text, "data": {"buttons": buttons}},
    ]


def send_notices_later(
    settings: Settings, notices: Iterable[Notice], *, slots: tuple[str, str]
) -> None:
    """Deliver each notice to its chat once the running action has returned (background)."""
    targets = [(n, conversation_id(n.identity)) for n in notices]

    async def send() -> None:
        try:
            await deliver()
        except Exception as exc:  # never let a background task die silently
            logger.warning("Delivering notices failed: %s", type(exc).__name__)

    async def deliver() -> None:
        async with RasaApi.from_settings(settings) as api:
            for notice, sender in targets:
                if sender is None:
                    continue
                try:
                    events = notice_events(notice, slots=slots)
                    await api.append_events(sender, events, output_channel=notice.identity.channel)
                except (RasaApiError, RasaUnreachable) as exc:
                    logger.warning("A notice could not be delivered: %s", type(exc).__name__)

    if targets:
        task = asyncio.get_running_loop().create_task(send())
        _background.add(task)
        task.add_done_callback(_background.discard)
