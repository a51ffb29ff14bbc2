"""The profile store's ports: what services may ask of any backend.

One module per aggregate, the same split as the `sql` and `memory` backends:
`profiles`, `links` (codes, wrong-code counts, joins), `audit`, `receipts`,
`tombstones`, `orders`, `tokens`, `rights`, and `uow` (the unit of work and its
factory). Every name is importable from `bot.store.ports` itself.
"""

from bot.store.ports.audit import AuditRepository
from bot.store.ports.links import ClaimedCode, LinkRepository
from bot.store.ports.orders import OrderRepository
from bot.store.ports.profiles import ProfileRepository
from bot.store.ports.receipts import ReceiptRepository
from bot.store.ports.rights import RightsRepository
from bot.store.ports.tokens import TokenRepository
from bot.store.ports.tombstones import TombstoneRepository
from bot.store.ports.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "AuditRepository",
    "ClaimedCode",
    "LinkRepository",
    "OrderRepository",
    "ProfileRepository",
    "ReceiptRepository",
    "RightsRepository",
    "TokenRepository",
    "TombstoneRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]
