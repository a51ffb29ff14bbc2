"""De-duplication of platform deliveries (Telegram updates, Slack events), persisted."""

from __future__ import annotations

from datetime import datetime

from bot.store.ports import UnitOfWorkFactory


def first_delivery(uow_factory: UnitOfWorkFactory, *, channel: str, key: str, at: datetime) -> bool:
    """True the first time `(channel, key)` is seen, False for every retry or replay.

    Persisted in the profile store, so a restart does not answer a delivery twice.
    """
    with uow_factory() as uow:
        fresh = uow.receipts.add(channel=channel, key=key[:200], at=at)
        uow.commit()
    return fresh
