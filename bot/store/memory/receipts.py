"""In-memory receipt repository: platform deliveries already handled."""

from __future__ import annotations

from datetime import datetime

from bot.store.memory.data import StoreData


class MemoryReceiptRepository:
    """ReceiptRepository over the unit of work's copy of the data."""

    def __init__(self, data: StoreData) -> None:
        self._data = data

    def add(self, *, channel: str, key: str, at: datetime) -> bool:
        if (channel, key) in self._data.receipts:
            return False
        self._data.receipts[(channel, key)] = at
        return True

    def delete_before(self, *, before: datetime) -> int:
        old = [k for k, at in self._data.receipts.items() if at < before]
        for k in old:
            del self._data.receipts[k]
        return len(old)
