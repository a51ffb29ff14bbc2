"""SQL unit of work: one connection and transaction, every repository bound to it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Connection, Engine

from bot.store.sql.audit import SqlAuditRepository
from bot.store.sql.links import SqlLinkRepository
from bot.store.sql.orders import SqlOrderRepository
from bot.store.sql.profiles import SqlProfileRepository
from bot.store.sql.receipts import SqlReceiptRepository
from bot.store.sql.rights import SqlRightsRepository
from bot.store.sql.tokens import SqlTokenRepository
from bot.store.sql.tombstones import SqlTombstoneRepository


class SqlUnitOfWork:
    """A transaction on the profile store; rolls back unless committed."""

    profiles: SqlProfileRepository
    receipts: SqlReceiptRepository
    links: SqlLinkRepository
    audit: SqlAuditRepository
    orders: SqlOrderRepository
    tokens: SqlTokenRepository
    tombstones: SqlTombstoneRepository
    rights: SqlRightsRepository

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def __enter__(self) -> "SqlUnitOfWork":
        self._conn = self._engine.connect()
        self._conn.begin()
        self.profiles = SqlProfileRepository(self._conn)
        self.receipts = SqlReceiptRepository(self._conn)
        self.audit = SqlAuditRepository(self._conn)
        self.links = SqlLinkRepository(self._conn)
        self.orders = SqlOrderRepository(self._conn)
        self.tokens = SqlTokenRepository(self._conn)
        self.tombstones = SqlTombstoneRepository(self._conn)
        self.rights = SqlRightsRepository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            self.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None
        self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()


class SqlUnitOfWorkFactory:
    """Creates units of work on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)
