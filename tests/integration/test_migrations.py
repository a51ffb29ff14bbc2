"""Alembic from empty gives exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.store.migrate import downgrade, upgrade
from bot.store.sql import make_engine
from bot.store.tables import metadata

TABLES = {
    "tombstones",
    "orders",
    "order_items",
    "purchase_flags",
    "purchase_contexts",
    "reminder_candidates",
    "api_tokens",
    "link_codes",
    "audit_events",
    "people",
    "identities",
    "attribute_values",
    "consents",
    "question_states",
    "inbound_receipts",
}


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = list(compare_metadata(context, metadata))
    engine.dispose()
    return diff


def test_sqlite_upgrade_from_empty_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    assert _diff(url) == []


def test_postgresql_upgrade_from_empty_matches_the_models(postgres_url: str) -> None:
    upgrade(postgres_url)
    assert _diff(postgres_url) == []


def test_downgrade_to_base_removes_every_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    downgrade(url, "base")
    engine = make_engine(url)
    assert TABLES.isdisjoint(inspect(engine).get_table_names())
    engine.dispose()
