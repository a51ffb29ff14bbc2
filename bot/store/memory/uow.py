"""In-memory unit of work and `MemoryStore`, its factory (serialised by one lock)."""

from __future__ import annotations

import copy
import threading
from types import TracebackType

from bot.store.memory.audit import MemoryAuditRepository
from bot.store.memory.data import StoreData
from bot.store.memory.links import MemoryLinkRepository
from bot.store.memory.orders import MemoryOrderRepository
from bot.store.memory.profiles import MemoryProfileRepository
from bot.store.memory.receipts import MemoryReceiptRepository
from bot.store.memory.rights import MemoryRightsRepository
from bot.store.memory.tokens import MemoryTokenRepository
from bot.store.memory.tombstones import MemoryTombstoneRepository


class MemoryUnitOfWork:
    """Works on a copy of the shared data; commit swaps it in (serialised by a lock)."""

    profiles: MemoryProfileRepository
    receipts: MemoryReceiptRepository
    links: MemoryLinkRepository
    audit: MemoryAuditRepository
    orders: MemoryOrderRepository
    tokens: MemoryTokenRepository
    tombstones: MemoryTombstoneRepository
    rights: MemoryRightsRepository

    def __init__(self, store: "MemoryStore") -> None:
        self._store = store
        self._working: StoreData | None = None

    def __enter__(self) -> "MemoryUnitOfWork":
        self._store.lock.acquire()
        self._working = copy.deepcopy(self._store.data)
        self._bind()
        return self

    def _bind(self) -> None:
        assert self._working is not None
        self.profiles = MemoryProfileRepository(self._working)
        self.receipts = MemoryReceiptRepository(self._working)
        self.audit = MemoryAuditRepository(self._working)
        self.links = MemoryLinkRepository(self._working)
        self.orders = MemoryOrderRepository(self._working.purchases)
        self.tokens = MemoryTokenRepository(self._working)
        self.tombstones = MemoryTombstoneRepository(self._working)
        self.rights = MemoryRightsRepository(self._working)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        self._store.lock.release()

    def commit(self) -> None:
        assert self._working is not None
        self._store.data = copy.deepcopy(self._working)

    def rollback(self) -> None:
        self._working = copy.deepcopy(self._store.data)
        self._bind()


class MemoryStore:
    """A unit-of-work factory holding its data in memory."""

    def __init__(self) -> None:
        self.data = StoreData()
        self.lock = threading.RLock()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)
