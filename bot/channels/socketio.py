"""Socket.IO channel for the web chat: session rooms, guarded messages, a bot-initiated welcome.

Rasa 3.6's own SocketIOInput calls `sio.enter_room` without awaiting it, which
python-socketio 5.x made a coroutine: the browser never joins its session room
and, with session persistence on, never receives an answer. This connector
awaits it, accepts only well-formed session ids, passes every shopper message
through the guard, and lets the page ask for the welcome (`rapport_start`)
without typing anything.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.customer import attach_if_vouched
from bot.channels.guard import guarded
from bot.channels.platform import apply_platform_fixes
from bot.config import load_settings
from bot.domain.model import Identity

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
        apply_platform_fixes()
        # 64 KiB per Socket.IO packet: far above a 2,000-character message.
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=[], max_http_buffer_size=MAX_PACKET_BYTES
        )
        bp = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        shopper_message = guarded(on_new_message)
        secret = load_settings().shop_secret
        namespace = self.namespace

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None) -> bool:
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            asked = (
                valid_session_id((data or {}).get("session_id")) if isinstance(data, dict) else None
            )
            session_id = asked or uuid.uuid4().hex
            await sio.enter_room(sid, session_id, namespace=namespace)
            if isinstance(data, dict) and "customer" in data:
                identity = Identity(self.name(), session_id)
                await attach_if_vouched(identity, {"customer": data.get("customer")}, secret)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

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
            return UserMessage(text, output, session_id, input_channel=self.name())

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            text = data.get("message") if isinstance(data, dict) else None
            message = _message(sid, data, text)
            if message is not None:
                await shopper_message(message)

        @sio.on("rapport_start", namespace=namespace)
        async def start(sid: str, data: Any) -> None:
            message = _message(sid, data, WELCOME_TEXT)
            if message is not None:
                await on_new_message(message)

        return bp
