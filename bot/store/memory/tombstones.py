"""In-memory tombstone repository: salted hashes of erased identities."""

from __future__ import annotations

from datetime import datetime

from bot.store.memory.data import StoreData


class MemoryTombstoneRepository:
    """TombstoneRepository over the unit of work's copy of the data."""

    def __init__(self, data: StoreData) -> None:
        self._data = data

    def add(self, *, identity_hash: str, at: datetime) -> None:
        self._data.tombstones.add(identity_hash)

    def exists(self, *, identity_hash: str) -> bool:
        return identity_hash in self._data.tombstones
