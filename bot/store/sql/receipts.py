"""SQL receipt repository: platform deliveries already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.store.tables import inbound_receipts


class SqlReceiptRepository:
    """ReceiptRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add(self, *, channel: str, key: str, at: datetime) -> bool:
        nested = self._conn.begin_nested()
        try:
            self._conn.execute(
                insert(inbound_receipts).values(channel=channel, key=key, received_at=at)
            )
            nested.commit()
        except IntegrityError:
            nested.rollback()
            return False
        return True

    def delete_before(self, *, before: datetime) -> int:
        done = self._conn.execute(
            delete(inbound_receipts).where(inbound_receipts.c.received_at < before)
        )
        return int(done.rowcount)
