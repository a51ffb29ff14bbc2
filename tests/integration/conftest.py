"""Store backends for the contract suite: memory, SQLite file, PostgreSQL (127.0.0.1/test)."""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from bot.config import Settings, load_settings
from bot.store.memory import MemoryStore
from bot.store.migrate import upgrade
from bot.store.ports import UnitOfWorkFactory
from bot.store.sql import SqlUnitOfWorkFactory, make_engine
from bot.web.app import create_app

POSTGRES_URL = os.environ.get(
    "RAPPORT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_schema_url(schema: str) -> str:
    """The test database URL with `schema` first on the search path."""
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty schema in the local PostgreSQL, dropped afterwards.

    PostgreSQL runs on every machine of this project's kind and in CI: when it is
    missing the test fails loudly rather than skipping (set
    RAPPORT_SKIP_POSTGRES=1 to skip on purpose, e.g. on a laptop without it).
    """
    if os.environ.get("RAPPORT_SKIP_POSTGRES") == "1":
        pytest.skip("RAPPORT_SKIP_POSTGRES=1: PostgreSQL contract tests skipped on purpose")
    schema = f"rapport_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - only without PostgreSQL
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not usable: {exc}")
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _migrated_sql_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[SqlUnitOfWorkFactory]:
    """The SQL backend named by `request.param`, migrated from empty by Alembic."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)
    engine = make_engine(url)
    yield SqlUnitOfWorkFactory(engine)
    engine.dispose()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    """Every backend of the profile store, migrated from empty by Alembic."""
    if request.param == "memory":
        yield MemoryStore()
        return
    yield from _migrated_sql_store(request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_uow_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[SqlUnitOfWorkFactory]:
    """Every SQL backend of the profile store (for checks on the statements it issues)."""
    yield from _migrated_sql_store(request, tmp_path)


MakeFactory = Callable[[], UnitOfWorkFactory]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a web app on a fresh, migrated SQLite store under `tmp_path`."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "socket.io.min.js").write_text("/* fake socket.io */")
    return dataclasses.replace(load_settings(), database_url=url, var_dir=tmp_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[SqlUnitOfWorkFactory]:
    """The store behind `settings`."""
    engine = make_engine(settings.resolved_database_url)
    yield SqlUnitOfWorkFactory(engine)
    engine.dispose()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The web app for `settings`, in Starlette's test client."""
    with TestClient(create_app(settings)) as client:
        yield client
