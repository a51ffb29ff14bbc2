"""De-duplication of platform deliveries (Telegram updates, Slack events), persisted."""

from __future__ import annotations

from datetime import datetime

from bot.domain.pseudonyms import pseudonym
from bot.store.ports import UnitOfWorkFactory


def first_delivery(
    uow_factory: UnitOfWorkFactory, *, channel: str, key: str, at: datetime, secret: str
) -> bool:
    """True the first time `(channel, key)` is seen, False for every retry or replay.

    Persisted in the profile store, so a restart does not answer a delivery twice.
    Keys name chats and users (`msg:<channel>:<ts>`), so only their pseudonym under the
    installation's key is stored; retention deletes receipts after RAPPORT_RECEIPT_DAYS.
    """
    with uow_factory() as uow:
        fresh = uow.receipts.add(channel=channel, key=pseudonym(secret, key), at=at)
        uow.commit()
    return fresh
