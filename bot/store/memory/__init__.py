"""The in-memory backend of the profile store: the fake unit tests use.

It passes the same contract suite as the SQL backend. One module per aggregate, the
same split as `bot.store.ports` and `bot.store.sql`: `profiles`, `links`, `audit`,
`receipts`, `tombstones`, `orders`, `tokens`, `rights`, `uow` (the unit of work and
`MemoryStore`, its factory), plus `data` (what the store holds). The public names
are re-exported here: `from bot.store.memory import MemoryStore`.
"""

from bot.store.memory.audit import MemoryAuditRepository
from bot.store.memory.data import OrderData, StoreData
from bot.store.memory.links import MemoryLinkRepository
from bot.store.memory.orders import MemoryOrderRepository
from bot.store.memory.profiles import MemoryProfileRepository
from bot.store.memory.receipts import MemoryReceiptRepository
from bot.store.memory.rights import MemoryRightsRepository
from bot.store.memory.tokens import MemoryTokenRepository
from bot.store.memory.tombstones import MemoryTombstoneRepository
from bot.store.memory.uow import MemoryStore, MemoryUnitOfWork

__all__ = [
    "MemoryAuditRepository",
    "MemoryLinkRepository",
    "MemoryOrderRepository",
    "MemoryProfileRepository",
    "MemoryReceiptRepository",
    "MemoryRightsRepository",
    "MemoryStore",
    "MemoryTokenRepository",
    "MemoryTombstoneRepository",
    "MemoryUnitOfWork",
    "OrderData",
    "StoreData",
]
