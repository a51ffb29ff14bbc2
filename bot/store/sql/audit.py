"""SQL audit repository: the audit trail, filed by person id or pseudonym."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from bot.store.tables import audit_events


class SqlAuditRepository:
    """AuditRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add(self, *, kind: str, person_id: str, details: dict[str, Any], at: datetime) -> None:
        self._conn.execute(
            insert(audit_events).values(
                at=at, kind=kind, person_id=person_id, details_json=json.dumps(details)
            )
        )

    def events(self, *, person_id: str) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            select(audit_events)
            .where(audit_events.c.person_id == person_id)
            .order_by(audit_events.c.at, audit_events.c.id)
        )
        return [
            {"at": row.at, "kind": row.kind, "details": json.loads(row.details_json)}
            for row in rows
        ]

    def rekey(self, *, person_id: str, to: str) -> None:
        self._conn.execute(
            update(audit_events).where(audit_events.c.person_id == person_id).values(person_id=to)
        )
