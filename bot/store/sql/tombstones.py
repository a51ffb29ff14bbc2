"""SQL tombstone repository: salted hashes of erased identities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from bot.store.tables import tombstones


class SqlTombstoneRepository:
    """TombstoneRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add(self, *, identity_hash: str, at: datetime) -> None:
        if not self.exists(identity_hash=identity_hash):
            self._conn.execute(insert(tombstones).values(identity_hash=identity_hash, erased_at=at))

    def exists(self, *, identity_hash: str) -> bool:
        found = self._conn.execute(
            select(tombstones.c.identity_hash).where(tombstones.c.identity_hash == identity_hash)
        ).first()
        return found is not None
