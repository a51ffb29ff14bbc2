"""SQL rights repository: one-time data-export links and consent wordings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from bot.store.tables import consent_wordings, data_exports


def _live(token_hash: str, at: datetime) -> ColumnElement[bool]:
    """The export link with this token, unused and not expired at `at`."""
    return and_(
        data_exports.c.token_hash == token_hash,
        data_exports.c.used_at.is_(None),
        data_exports.c.expires_at > at,
    )


class SqlRightsRepository:
    """RightsRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add_export(
        self, *, token_hash: str, person_id: str, created_at: datetime, expires_at: datetime
    ) -> None:
        self._conn.execute(
            insert(data_exports).values(
                token_hash=token_hash,
                person_id=person_id,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    def claim_export(self, *, token_hash: str, at: datetime) -> str | None:
        row = self._conn.execute(
            select(data_exports.c.id, data_exports.c.person_id).where(_live(token_hash, at))
        ).first()
        if row is None:
            return None
        claimed = self._conn.execute(
            update(data_exports)
            .where(data_exports.c.id == row.id, data_exports.c.used_at.is_(None))
            .values(used_at=at)
        ).rowcount
        return str(row.person_id) if claimed == 1 else None

    def export_is_live(self, *, token_hash: str, at: datetime) -> bool:
        found = self._conn.execute(select(data_exports.c.id).where(_live(token_hash, at))).first()
        return found is not None

    def add_wording(
        self, *, wording_hash: str, text: str, policy_version: str, at: datetime
    ) -> None:
        if self.wording(wording_hash=wording_hash) is not None:
            return
        nested = self._conn.begin_nested()
        try:
            self._conn.execute(
                insert(consent_wordings).values(
                    wording_hash=wording_hash,
                    text=text,
                    policy_version=policy_version,
                    first_shown_at=at,
                )
            )
            nested.commit()
        except IntegrityError:  # another turn stored the same wording first
            nested.rollback()

    def wording(self, *, wording_hash: str) -> str | None:
        text = self._conn.execute(
            select(consent_wordings.c.text).where(consent_wordings.c.wording_hash == wording_hash)
        ).scalar()
        return str(text) if text is not None else None
