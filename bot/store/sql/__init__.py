"""The SQLAlchemy 1.4 Core backend of the profile store (SQLite and PostgreSQL).

One module per aggregate, the same split as `bot.store.ports` and `bot.store.memory`:
`profiles` (with `loading`: rows to domain objects, people loaded in batches),
`links`, `audit`, `receipts`, `tombstones`, `orders`, `tokens`, `rights`, `uow` (the
unit of work and its factory), plus `engine` (`make_engine`). The public names are
re-exported here: `from bot.store.sql import SqlUnitOfWorkFactory, make_engine`.
"""

from bot.store.sql.audit import SqlAuditRepository
from bot.store.sql.engine import make_engine
from bot.store.sql.links import SqlLinkRepository
from bot.store.sql.orders import PURCHASE_TABLES, SqlOrderRepository
from bot.store.sql.profiles import SqlProfileRepository
from bot.store.sql.receipts import SqlReceiptRepository
from bot.store.sql.rights import SqlRightsRepository
from bot.store.sql.tokens import SqlTokenRepository
from bot.store.sql.tombstones import SqlTombstoneRepository
from bot.store.sql.uow import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = [
    "PURCHASE_TABLES",
    "SqlAuditRepository",
    "SqlLinkRepository",
    "SqlOrderRepository",
    "SqlProfileRepository",
    "SqlReceiptRepository",
    "SqlRightsRepository",
    "SqlTokenRepository",
    "SqlTombstoneRepository",
    "SqlUnitOfWork",
    "SqlUnitOfWorkFactory",
    "make_engine",
]
