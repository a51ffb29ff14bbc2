"""Web chat sessions: the server issues every session id, with a signed, expiring token.

The browser never chooses its session id. On its first `session_request` the
Socket.IO channel makes a random one and confirms it together with a token: an
HMAC-SHA256 signature (itsdangerous `TimestampSigner`) over the id and the time it was
issued. The page keeps the token and presents it when it connects again; a valid
token resumes its session, and anything else (no token, a bare session id, a forged,
tampered or expired token, one signed with another secret) gets a fresh session: never
an error, never the presented id. Every confirmation carries a new token, so a session
lasts until it has gone unused for `TOKEN_MAX_AGE`.

The key is RAPPORT_SESSION_SECRET, or a random one generated once into
`var/session.secret` (mode 0600). Only the Rasa process (which runs the Socket.IO
channel) signs and checks tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from itsdangerous import BadSignature, TimestampSigner

from bot.adapters.secret_files import MIN_SECRET_CHARS, load_or_create_secret

TOKEN_MAX_AGE = timedelta(days=30)
SECRET_FILE = "session.secret"
_SALT = "rapport.web-chat.session"
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


@dataclass(frozen=True)
class ChatSession:
    """A confirmed web chat session: its id, the token to present next time, and whether
    it was resumed from a valid token (False: a fresh session)."""

    session_id: str
    token: str
    resumed: bool


class _Signer(TimestampSigner):
    """itsdangerous' timestamp signer, on our clock (tests move it)."""

    def __init__(self, secret: str, clock: Callable[[], float]) -> None:
        super().__init__(secret, salt=_SALT, digest_method=hashlib.sha256)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class SessionTokens:
    """Issues web chat session ids with their tokens, and resumes sessions from tokens."""

    def __init__(
        self,
        secret: str,
        *,
        max_age: timedelta = TOKEN_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"the session secret must be at least {MIN_SECRET_CHARS} characters")
        self._signer = _Signer(secret, clock)
        self._max_age = int(max_age.total_seconds())

    def issue(self, session_id: str) -> str:
        """A token for `session_id`, valid for `max_age` from now."""
        if not _SESSION_ID.match(session_id):
            raise ValueError("not a session id this server issues")
        return self._signer.sign(session_id).decode("ascii")

    def verify(self, token: object) -> str | None:
        """The session id `token` was issued for, or None if it is not a valid, current token."""
        if not isinstance(token, str) or not _TOKEN.match(token):
            return None
        try:
            value = self._signer.unsign(token, max_age=self._max_age).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None
        # Base64 leaves spare bits in the signature's last character, which unsign()
        # ignores: only the signature exactly as issued is this token.
        signed, _, signature = token.rpartition(".")
        issued = self._signer.get_signature(signed).decode("ascii")
        if not hmac.compare_digest(signature, issued):
            return None
        return value if _SESSION_ID.match(value) else None

    def start(self, token: object) -> ChatSession:
        """The session `token` resumes, or a fresh one; either way with a new token."""
        session_id = self.verify(token)
        resumed = session_id is not None
        if session_id is None:
            session_id = uuid.uuid4().hex
        return ChatSession(session_id, self.issue(session_id), resumed)


def session_tokens(secret: str, var_dir: Path) -> SessionTokens:
    """Tokens keyed by `secret` (RAPPORT_SESSION_SECRET), or by var/session.secret."""
    return SessionTokens(secret or load_or_create_secret(var_dir / SECRET_FILE))
