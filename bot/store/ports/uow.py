"""Port of the unit of work: every repository, bound to one atomic piece of work."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from bot.store.ports.audit import AuditRepository
from bot.store.ports.links import LinkRepository
from bot.store.ports.orders import OrderRepository
from bot.store.ports.profiles import ProfileRepository
from bot.store.ports.receipts import ReceiptRepository
from bot.store.ports.rights import RightsRepository
from bot.store.ports.tokens import TokenRepository
from bot.store.ports.tombstones import TombstoneRepository


class UnitOfWork(Protocol):
    """One atomic piece of work on the store: commit or nothing."""

    @property
    def profiles(self) -> ProfileRepository:
        """The repository bound to this unit of work."""

    @property
    def links(self) -> LinkRepository:
        """Link codes, wrong-code counts and joins bound to this unit of work."""

    @property
    def audit(self) -> AuditRepository:
        """The audit trail bound to this unit of work."""

    @property
    def orders(self) -> OrderRepository:
        """Orders and purchase contexts bound to this unit of work."""

    @property
    def tokens(self) -> TokenRepository:
        """API tokens bound to this unit of work."""

    @property
    def tombstones(self) -> TombstoneRepository:
        """Erasure tombstones bound to this unit of work."""

    @property
    def receipts(self) -> ReceiptRepository:
        """Delivery receipts bound to this unit of work."""

    @property
    def rights(self) -> RightsRepository:
        """Export links and consent wordings bound to this unit of work."""

    def __enter__(self) -> "UnitOfWork": ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work per use case call."""

    def __call__(self) -> UnitOfWork: ...
