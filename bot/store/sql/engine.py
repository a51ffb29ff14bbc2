"""The engine factory: SQLite gets foreign keys, WAL, a busy timeout and BEGIN IMMEDIATE."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, future=True, connect_args={"check_same_thread": False, "timeout": 15}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, issue BEGIN: savepoints then work.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            # IMMEDIATE takes the write lock up front, so concurrent writers wait
            # (busy timeout) instead of failing on a read-to-write upgrade.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, future=True, pool_pre_ping=True)
