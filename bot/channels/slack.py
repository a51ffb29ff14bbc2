"""Slack channel on slack_sdk: signed, de-duplicated Events API and button clicks, answered in DMs.

`POST /webhooks/slack/webhook` takes both Events API deliveries (JSON) and
interactivity (`application/x-www-form-urlencoded` with a `payload` field).
Every request must carry a valid Slack signature (5-minute window). Slack wants
a 2xx within 3 s and re-sends otherwise, so the webhook acknowledges at once and
answers in the background, one message at a time per shopper. Rasa's own Slack
channel does not de-duplicate `event_id`; here every delivery is recorded in the
profile store (`bot.services.receipts`), by event and by the underlying message,
so a retry, a replay, or a DM that arrives both as `message.im` and `app_mention`
is answered once. Shopper text passes the guard (and the per-shopper rate limits)
like on every other channel.

The bot answers only in the shopper's direct message with it (`bot.channels.slack_output`):
a mention in a channel, or a click on a button under a channel message, gets nothing
in that channel but a short ephemeral invitation to the DM, and is answered in the DM,
where the conversation goes on. Rasa's HTTP API can send to a Slack shopper too
(`output_channel=slack`): the conversation id is their Slack user id, and the message
goes to their DM.

The channel is on whenever SLACK_BOT_TOKEN is set; nothing calls Slack at
start-up. On shutdown, running answers get a few seconds to finish. Shopper text,
user names and ids are never logged at INFO or above.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels import slack_blocks
from bot.channels.guard import OnNewMessage, guarded
from bot.channels.limits import RateLimits
from bot.channels.platform import apply_platform_fixes
from bot.channels.slack_output import (
    CHANNEL,
    DirectMessageOutput,
    SlackOutput,
    answer_in,
    close_client,
    make_client,
)
from bot.config import Settings, load_settings
from bot.domain.model import utcnow
from bot.services.receipts import first_delivery
from bot.services.runtime import get_services
from bot.services.secret_files import private_process

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
SHUTDOWN_GRACE_SECONDS = 5.0
CHANNEL_INVITATION = "I've answered you in a direct message, so what you tell me stays between us."
"""All a channel other than the shopper's DM ever gets from the bot: posted ephemerally, to them.

To move to the message catalogue (shop/questions.yml), so it is translated like the rest.
"""
_FORM = "application/x-www-form-urlencoded"
_LEADING_MENTION = re.compile(r"^\s*<@([A-Z0-9]+)(?:\|[^>]*)?>\s*")
_DIGITS = re.compile(r"^[0-9]{1,12}$")
_ID = re.compile(r"[A-Za-z0-9._-]{1,63}")

Now = Callable[[], float]


# --- signatures --------------------------------------------------------------------------


class _InjectedClock(Clock):
    """slack_sdk's clock, reading the time from a function (tests pass a fixed one)."""

    def __init__(self, now: Now) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def is_signed_by_slack(
    body: bytes, headers: Mapping[str, str], *, signing_secret: str, now: Now = time.time
) -> bool:
    """True when `body` carries a valid Slack signature made in the last 5 minutes.

    `headers` needs `X-Slack-Request-Timestamp` and `X-Slack-Signature` (any case).
    A missing secret, a malformed timestamp, a non-ASCII signature (`hmac.compare_digest`
    raises on one) or a body that is not UTF-8 is refused.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if not signing_secret.strip() or not timestamp or not signature:
        return False
    if not _DIGITS.match(timestamp) or not signature.isascii():
        return False
    verifier = SignatureVerifier(signing_secret, clock=_InjectedClock(now))
    try:
        return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except (UnicodeDecodeError, ValueError):
        return False


# --- inbound: what to answer -------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    """One shopper message to answer: text, who, where, and its de-duplication keys."""

    text: str
    user: str
    channel: str
    keys: tuple[str, ...]
    ref: str


def _str(value: Any) -> str | None:
    """`value` when it is shaped like a Slack id or timestamp (`U024BE7LH`, `1712345678.000100`).

    Ids are stored (identities, receipts, message references), so anything else (NUL and
    other control characters, unpaired surrogates, kilobytes of text) counts as missing.
    """
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def bot_user_of(envelope: Mapping[str, Any]) -> str | None:
    """The bot's own user id, from `authorizations[0].user_id` when Slack sends it."""
    authorizations = envelope.get("authorizations")
    if isinstance(authorizations, list) and authorizations:
        return _str(_dict(authorizations[0]).get("user_id"))
    return None


def strip_mention(text: str, bot_user: str | None) -> str:
    """`text` without a leading `<@BOT>` mention (any leading mention if the bot is unknown)."""
    match = _LEADING_MENTION.match(text)
    if match and (bot_user is None or match.group(1) == bot_user):
        return text[match.end() :]
    return text


def _answerable(event: Mapping[str, Any], bot_user: str | None) -> bool:
    """A shopper's own message in a DM, or a mention of the bot; nothing from bots."""
    kind = event.get("type")
    if kind == "message" and event.get("channel_type") != "im":
        return False
    if kind not in ("message", "app_mention"):
        return False
    if event.get("subtype") or event.get("bot_id") or event.get("bot_profile"):
        return False
    user = _str(event.get("user"))
    return user is not None and user != bot_user


def event_inbound(envelope: Mapping[str, Any]) -> Inbound | None:
    """The message to answer in an `event_callback` envelope, or None to ignore it."""
    event = _dict(envelope.get("event"))
    bot_user = bot_user_of(envelope)
    if not _answerable(event, bot_user):
        return None
    user, channel, ts = _str(event.get("user")), _str(event.get("channel")), _str(event.get("ts"))
    if user is None or channel is None or ts is None:
        return None
    text = event.get("text")
    raw = text if isinstance(text, str) else ""
    event_id = _str(envelope.get("event_id"))
    keys = (f"event:{event_id}",) if event_id else ()
    return Inbound(
        text=slack_blocks.plain_text(strip_mention(raw, bot_user)),
        user=user,
        channel=channel,
        keys=(*keys, f"msg:{channel}:{ts}"),
        ref=f"{channel}:{ts}",
    )


def _clicked(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first of our buttons among the payload's actions."""
    actions = payload.get("actions")
    for action in actions if isinstance(actions, list) else []:
        action = _dict(action)
        action_id = _str(action.get("action_id")) or ""
        if (
            action.get("type") == "button"
            and action_id.startswith(slack_blocks.ACTION_PREFIX)
            and isinstance(action.get("value"), str)
        ):
            return action
    return None


def click_inbound(payload: Mapping[str, Any]) -> Inbound | None:
    """The shopper text behind a `block_actions` click on one of our buttons, or None."""
    if payload.get("type") != "block_actions":
        return None
    action = _clicked(payload)
    container = _dict(payload.get("container"))
    user = _str(_dict(payload.get("user")).get("id"))
    channel = _str(_dict(payload.get("channel")).get("id")) or _str(container.get("channel_id"))
    if action is None or user is None or channel is None:
        return None
    message_ts = _str(container.get("message_ts")) or ""
    action_ts = _str(action.get("action_ts")) or ""
    return Inbound(
        text=action["value"],
        user=user,
        channel=channel,
        keys=(f"action:{channel}:{message_ts}:{action_ts}:{user}",),
        ref=f"{channel}:{action_ts or message_ts}",
    )


# --- the webhook -------------------------------------------------------------------------


def _refusal(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _parse_json(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _parse_form_payload(body: bytes) -> dict[str, Any] | None:
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (ValueError, UnicodeDecodeError):
        return None
    payload = form.get("payload")
    return _parse_json(payload[0].encode()) if payload else None


class _InArrivalOrder:
    """One lock per shopper, so their messages are handled one at a time, in arrival order.

    Background tasks start in the order requests arrived; without this, two quick
    messages could overtake each other while their receipts are being recorded.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class _Webhook:
    """Checks, acknowledges and schedules Slack deliveries for one running channel."""

    def __init__(
        self, settings: Settings, client: AsyncWebClient, on_message: OnNewMessage, now: Now
    ) -> None:
        self._secret = settings.slack_signing_secret
        self._client = client
        self._on_message = on_message
        self._now = now
        self._tasks: set[asyncio.Task[None]] = set()
        self._order = _InArrivalOrder()

    async def handle(self, request: Request) -> HTTPResponse:
        body: bytes = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return _refusal(413, "request body too large")
        headers = {
            "x-slack-request-timestamp": request.headers.get("x-slack-request-timestamp", ""),
            "x-slack-signature": request.headers.get("x-slack-signature", ""),
        }
        if not is_signed_by_slack(body, headers, signing_secret=self._secret, now=self._now):
            logger.warning("slack request with a missing, invalid or stale signature refused")
            return _refusal(401, "invalid signature")
        if request.headers.get("content-type", "").startswith(_FORM):
            return self._interactivity(_parse_form_payload(body))
        return self._events(_parse_json(body), request.headers.get("x-slack-retry-num"))

    def _interactivity(self, payload: dict[str, Any] | None) -> HTTPResponse:
        if payload is None:
            return _refusal(400, "the body must carry a JSON `payload` field")
        inbound = click_inbound(payload)
        if inbound is not None:
            self._schedule(inbound)
        return response.empty(status=200)

    def _events(self, envelope: dict[str, Any] | None, retry: str | None) -> HTTPResponse:
        if envelope is None:
            return _refusal(400, "the body must be a JSON object")
        kind = envelope.get("type")
        if kind == "url_verification":
            challenge = envelope.get("challenge")
            if not isinstance(challenge, str):
                return _refusal(400, "`challenge` must be a string")
            return response.json({"challenge": challenge})
        if kind == "event_callback":
            if retry:
                logger.debug("slack retry #%s of an event", retry)
            inbound = event_inbound(envelope)
            if inbound is not None:
                self._schedule(inbound)
        return response.empty(status=200)

    def _schedule(self, inbound: Inbound) -> None:
        task = asyncio.create_task(self._process(inbound))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, inbound: Inbound) -> None:
        async with self._order.turn(inbound.user):
            await self._answer(inbound)

    async def _answer(self, inbound: Inbound) -> None:
        try:
            if not await _first_delivery(inbound.keys):
                logger.info("slack delivery already handled, not answered again")
                return
            direct = await answer_in(
                self._client,
                channel=inbound.channel,
                user=inbound.user,
                invitation=CHANNEL_INVITATION,
            )
            if direct is None:
                logger.warning("slack message not answered: no direct message to answer in")
                return
            message = UserMessage(
                inbound.text,
                SlackOutput(self._client, direct),
                sender_id=inbound.user,
                input_channel=CHANNEL,
                message_id=inbound.ref,
            )
            await self._on_message(message)
        except Exception as error:  # a background task: nobody else would see it
            logger.error("slack message processing failed: %s", type(error).__name__)
            logger.debug("slack processing failure details", exc_info=True)

    async def close(self) -> None:
        """Let running answers finish (briefly), then release the client's connections."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE_SECONDS)
        await close_client(self._client)


async def _first_delivery(keys: tuple[str, ...]) -> bool:
    """True when none of `keys` was seen before (each one is recorded either way)."""
    for key in keys:
        fresh = await asyncio.to_thread(_record, key)
        if not fresh:
            return False
    return True


def _record(key: str) -> bool:
    services = get_services()
    return first_delivery(
        services.uow_factory, channel=CHANNEL, key=key, at=utcnow(), secret=services.key
    )


class SlackInput(InputChannel):
    """Rapport's Slack channel (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if credentials:
            logger.warning("slack channel settings come from the environment; credentials ignored")
        return cls()

    def __init__(self, settings: Settings | None = None, now: Now = time.time) -> None:
        self._settings = settings or load_settings()
        self._now = now
        self._client: AsyncWebClient | None = None

    @property
    def configured(self) -> bool:
        """On whenever a bot token is set."""
        return bool(self._settings.slack_bot_token)

    def _get_client(self) -> AsyncWebClient:
        """The one Web API client of this channel (made on first use; that makes no request)."""
        if self._client is None:
            self._client = make_client(self._settings)
        return self._client

    def get_output_channel(self) -> OutputChannel | None:
        """Rasa's API sends here (`output_channel=slack`): to the DM of the sender id's user.

        Returns:
            An output posting to the DM of the Slack user whose id is the recipient
            (the conversation's sender id), or None when the channel is not configured.
        """
        if not self.configured:
            return None
        return DirectMessageOutput(self._get_client())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        private_process(self._settings)
        apply_platform_fixes()
        bp = Blueprint("rapport_slack_webhook", __name__)
        webhook = self._webhook(on_new_message) if self.configured else None
        if webhook is not None and not self._settings.slack_signing_secret:
            logger.warning("SLACK_SIGNING_SECRET is not set: every Slack request will be refused")

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if webhook is None:
                return _refusal(404, "slack channel is not configured")
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if webhook is None:
                return _refusal(404, "slack channel is not configured")
            return await webhook.handle(request)

        @bp.listener("before_server_stop")
        async def close(*_: Any) -> None:
            if webhook is not None:
                await webhook.close()

        return bp

    def _webhook(self, on_new_message: OnNewMessage) -> _Webhook:
        """The webhook: guarded, rate-limited per shopper, sharing this channel's client."""
        limits = RateLimits.from_settings(self._settings)
        handler = guarded(on_new_message, settings=self._settings, limits=limits)
        return _Webhook(self._settings, self._get_client(), handler, self._now)
