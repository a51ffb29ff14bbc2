"""SQL token repository: API bearer tokens, stored by hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from bot.store.tables import api_tokens


class SqlTokenRepository:
    """TokenRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add(self, *, token_hash: str, scope: str, at: datetime) -> None:
        self._conn.execute(
            insert(api_tokens).values(token_hash=token_hash, scope=scope, created_at=at)
        )

    def scope_of(self, *, token_hash: str) -> str | None:
        scope = self._conn.execute(
            select(api_tokens.c.scope).where(
                api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
            )
        ).scalar()
        return str(scope) if scope else None
