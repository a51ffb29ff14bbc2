"""Socket.IO channel for the web chat: signed sessions, guarded messages, a bot-initiated welcome.

Rasa 3.6's own SocketIOInput calls `sio.enter_room` without awaiting it, which
python-socketio 5.x made a coroutine: the browser never joins its session room
and, with session persistence on, never receives an answer. This connector
awaits it, passes every shopper message through the guard, and lets the page ask
for the welcome (`rapport_start`) without typing anything.

Session ids are issued here, never chosen by the browser (bot/adapters/chat_sessions.py):
`session_request` carries the `session_token` of an earlier `session_confirm`, if the
page has one; a valid token resumes that session, anything else starts a fresh one.
The confirmation is `{"session_id": ..., "session_token": ...}`. A socket is in one
session room at a time, and only messages for that session are taken from it.

Only pages from RAPPORT_ALLOWED_ORIGINS may connect (python-socketio checks `Origin`
on every handshake; an empty list, Rasa's default, turns that check off). Connection
attempts per source address and messages per session and per source address are
rate-limited (bot/channels/limits.py). A session joined to one shop-signed customer
that is presented another customer's signature (a shared browser) is not resumed: a
fresh session starts for the new customer and sees nothing of the first.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as Refused

from bot.adapters.chat_sessions import ChatSession, SessionTokens, session_tokens
from bot.channels.customer import attach_if_vouched
from bot.channels.guard import guarded
from bot.channels.limits import RateLimits
from bot.channels.origins import address_pseudonym
from bot.channels.startup import connector_services
from bot.domain.conversations import SOURCE_KEY
from bot.domain.model import Identity
from bot.services.linking import AttachOutcome

logger = logging.getLogger(__name__)

_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_PACKET_BYTES = 64 * 1024
WELCOME_TEXT = "/greet"
"""What `rapport_start` feeds Rasa: built here, never taken from the browser."""


def valid_session_id(value: Any) -> str | None:
    """`value` when it is a session id this server could have issued (32 hex chars)."""
    if isinstance(value, str) and _SESSION_ID.match(value):
        return value
    return None


class GuardedSocketIOInput(SocketIOInput):
    """Rasa's Socket.IO channel, fixed and guarded (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        app = connector_services()  # once, when Rasa builds the channel
        settings, linking, key = app.settings, app.linking, app.key
        # 64 KiB per Socket.IO packet: far above a 2,000-character message.
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=list(settings.allowed_origins),
            max_http_buffer_size=MAX_PACKET_BYTES,
        )
        bp = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        limits = RateLimits.from_settings(settings)
        shopper_message = guarded(
            on_new_message, settings=settings, limits=limits, limit_sources=True
        )
        tokens = session_tokens(settings.session_secret, settings.var_dir)
        namespace = self.namespace
        sources: dict[str, str] = {}

        async def attach(session: ChatSession, customer: dict[str, Any]) -> AttachOutcome | None:
            return await attach_if_vouched(
                linking,
                Identity(self.name(), session.session_id),
                customer,
                secret=settings.shop_secret,
                max_minutes=settings.shop_signature_minutes,
            )

        async def vouched_session(request: dict[str, Any], session: ChatSession) -> ChatSession:
            if "customer" not in request:
                return session
            customer = {"customer": request.get("customer")}
            if await attach(session, customer) is not AttachOutcome.CONFLICT:
                return session
            # Another customer's session in this browser: start afresh for this one.
            logger.info("web chat session of another customer not resumed: a new one starts")
            fresh = _fresh(tokens)
            await attach(fresh, customer)
            return fresh

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        # Every handler takes any number of arguments: a client can emit an event with
        # none or several (even "connect"), and a missing one was a TypeError per event.
        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: Any = None, auth: Any = None, *_: Any) -> bool:
            request = environ.get("sanic.request") if isinstance(environ, dict) else None
            source = address_pseudonym(str(getattr(request, "ip", None) or "unknown"), key=key)
            if not limits.connection(source=source):
                logger.info("web chat connection refused: too many attempts from one address")
                raise Refused("too many connection attempts: wait a minute")
            sources[sid] = source
            return True

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: str, *_: Any) -> None:
            sources.pop(sid, None)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            request = data if isinstance(data, dict) else {}
            presented = request.get("session_token")
            session = tokens.start(presented)
            if presented is not None and not session.resumed:
                logger.info("web chat session token not valid: a new session was issued")
            session = await vouched_session(request, session)
            for room in sio.rooms(sid, namespace=namespace):
                if room != sid:
                    await sio.leave_room(sid, room, namespace=namespace)
            await sio.enter_room(sid, session.session_id, namespace=namespace)
            confirmation = {"session_id": session.session_id, "session_token": session.token}
            await sio.emit("session_confirm", confirmation, room=sid, namespace=namespace)

        def _message(sid: str, data: Any, text: Any) -> UserMessage | None:
            session_id = (
                valid_session_id(data.get("session_id")) if isinstance(data, dict) else None
            )
            if session_id is None:
                logger.warning("socket.io message without a valid session id ignored")
                return None
            if session_id not in sio.rooms(sid, namespace=namespace):
                logger.warning("socket.io message for a session this socket did not join ignored")
                return None
            output = SocketIOOutput(sio, self.bot_message_evt)
            metadata = {SOURCE_KEY: sources.get(sid, "unknown")}
            return UserMessage(
                text, output, session_id, input_channel=self.name(), metadata=metadata
            )

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            text = data.get("message") if isinstance(data, dict) else None
            # Rasa's UserMessage strips its text: anything else (a number, a list) would
            # fail there, before the guard could answer it as a message without text.
            message = _message(sid, data, text if isinstance(text, str) else None)
            if message is not None:
                await shopper_message(message)

        @sio.on("rapport_start", namespace=namespace)
        async def start(sid: str, data: Any = None, *_: Any) -> None:
            message = _message(sid, data, WELCOME_TEXT)
            if message is not None and limits.message(
                channel=self.name(), conversation=message.sender_id, source=sources.get(sid)
            ):
                await on_new_message(message)

        return bp


def _fresh(tokens: SessionTokens) -> ChatSession:
    """A brand-new session (no token presented)."""
    return tokens.start(None)
