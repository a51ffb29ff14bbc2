"""Alembic environment: the URL comes from bot.config (or the caller), metadata from tables."""

from __future__ import annotations

from alembic import context

from bot.config import load_settings
from bot.store.sql import make_engine
from bot.store.tables import metadata

config = context.config
url = config.attributes.get("database_url") or load_settings().resolved_database_url


def run_migrations() -> None:
    """Run migrations online, on a fresh engine."""
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()


run_migrations()
