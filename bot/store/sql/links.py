"""SQL link repository: one-time link codes, wrong-code counts and undoable joins."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from bot.domain.model import Identity
from bot.store.ports import ClaimedCode
from bot.store.tables import link_attempts, link_codes, link_joins


class SqlLinkRepository:
    """LinkRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add_code(
        self,
        *,
        person_id: str,
        code_hash: str,
        issuer: Identity,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        self._conn.execute(
            update(link_codes)
            .where(link_codes.c.person_id == person_id, link_codes.c.used_at.is_(None))
            .values(used_at=created_at)
        )
        self._conn.execute(
            insert(link_codes).values(
                person_id=person_id,
                code_hash=code_hash,
                created_at=created_at,
                expires_at=expires_at,
                issuer_channel=issuer.channel,
                issuer_external_id=issuer.external_id,
            )
        )

    def claim_code(self, *, code_hash: str, at: datetime) -> ClaimedCode | None:
        row = self._conn.execute(
            select(link_codes)
            .where(
                link_codes.c.code_hash == code_hash,
                link_codes.c.used_at.is_(None),
                link_codes.c.expires_at > at,
            )
            .order_by(link_codes.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        claimed = self._conn.execute(
            update(link_codes)
            .where(link_codes.c.id == row.id, link_codes.c.used_at.is_(None))
            .values(used_at=at)
        ).rowcount
        if claimed != 1:
            return None
        issuer = (
            Identity(row.issuer_channel, row.issuer_external_id)
            if row.issuer_channel and row.issuer_external_id
            else None
        )
        return ClaimedCode(str(row.person_id), issuer)

    def add_failure(self, *, chat_key: str, source_key: str | None, at: datetime) -> None:
        self._conn.execute(
            insert(link_attempts).values(chat_key=chat_key, source_key=source_key, at=at)
        )

    def failures_since(
        self, *, since: datetime, chat_key: str | None = None, source_key: str | None = None
    ) -> int:
        query = select(func.count()).select_from(link_attempts).where(link_attempts.c.at > since)
        if chat_key is not None:
            query = query.where(link_attempts.c.chat_key == chat_key)
        if source_key is not None:
            query = query.where(link_attempts.c.source_key == source_key)
        return int(self._conn.execute(query).scalar() or 0)

    def add_join(self, *, person_id: str, identities: list[Identity], at: datetime) -> int:
        listed = json.dumps([[i.channel, i.external_id] for i in identities])
        done = self._conn.execute(
            insert(link_joins).values(person_id=person_id, identities_json=listed, at=at)
        )
        return int(done.inserted_primary_key[0])

    def join(self, *, join_id: int) -> tuple[str, list[Identity]] | None:
        row = self._conn.execute(select(link_joins).where(link_joins.c.id == join_id)).first()
        if row is None:
            return None
        identities = [Identity(str(c), str(e)) for c, e in json.loads(row.identities_json)]
        return str(row.person_id), identities

    def delete_join(self, *, join_id: int) -> None:
        self._conn.execute(delete(link_joins).where(link_joins.c.id == join_id))

    def delete_joins_before(self, *, before: datetime) -> int:
        done = self._conn.execute(delete(link_joins).where(link_joins.c.at < before))
        return int(done.rowcount)

    def delete_expired_codes(self, *, at: datetime) -> int:
        done = self._conn.execute(delete(link_codes).where(link_codes.c.expires_at <= at))
        return int(done.rowcount)

    def delete_attempts_before(self, *, before: datetime) -> int:
        done = self._conn.execute(delete(link_attempts).where(link_attempts.c.at < before))
        return int(done.rowcount)
