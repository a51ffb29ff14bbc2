"""API bearer tokens: made once and shown once; only their SHA-256 hashes are stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from bot.domain.errors import RapportError
from bot.store.ports import UnitOfWorkFactory

SCOPES = frozenset({"orders"})
TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 256


class InvalidScope(RapportError):
    """A token scope Rapport does not know."""


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(uow_factory: UnitOfWorkFactory, scope: str, at: datetime) -> str:
    """A new random token for `scope`; the caller must show it now, it is not kept."""
    if scope not in SCOPES:
        allowed = ", ".join(sorted(SCOPES))
        raise InvalidScope(f"unknown token scope {scope!r} (allowed: {allowed})")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with uow_factory() as uow:
        uow.tokens.add(token_hash=token_hash(token), scope=scope, at=at)
        uow.commit()
    return token


def token_scope(uow_factory: UnitOfWorkFactory, token: str) -> str | None:
    """The scope of a live `token`, or None when it is unknown or revoked.

    The store is searched by the token's hash, never by the token itself, so how
    long a lookup takes says nothing about how close a guess was.
    """
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    with uow_factory() as uow:
        return uow.tokens.scope_of(token_hash=token_hash(token))
