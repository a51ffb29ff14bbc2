"""Port of the order repository: orders, purchase flags, purchase contexts, reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, Sequence

from bot.domain.purchases import FlagStatus, Order, PastItem, PurchaseContext, PurchaseFlag


class OrderRepository(Protocol):
    """Orders, flags on purchases worth asking about, and purchase contexts."""

    def exists(self, *, order_id: str) -> bool:
        """Whether this order id was stored before (orders are idempotent by id)."""

    def add(self, *, order: Order, person_id: str, at: datetime, source: str) -> bool:
        """Store an order and its items; False if the order id is already stored."""

    def past_items(self, *, person_id: str, before: datetime, limit: int) -> list[PastItem]:
        """The person's newest `limit` items ordered before `before`, newest first."""

    def add_flag(
        self,
        *,
        person_id: str,
        order_id: str,
        line: int,
        item_name: str,
        department: str,
        reason: str,
        at: datetime,
        expires_at: datetime,
    ) -> None:
        """Flag an item as worth asking about."""

    def flags(self, *, person_id: str) -> list[PurchaseFlag]:
        """Every flag of the person, oldest first."""

    def set_flag_status(self, *, flag_id: int, status: FlagStatus) -> None:
        """Move a flag on (asked, done)."""

    def delete_expired_flags(self, *, at: datetime) -> int:
        """Remove flags that expired at or before `at`, whatever their status; how many."""

    def add_context(self, *, person_id: str, context: PurchaseContext) -> None:
        """Record what the shopper said a purchase was for."""

    def contexts(self, *, person_id: str) -> list[PurchaseContext]:
        """Every purchase context of the person, oldest first."""

    def contexts_for(self, *, person_ids: Sequence[str]) -> dict[str, list[PurchaseContext]]:
        """`contexts` of each of these people at once (people without any left out)."""

    def add_reminder(
        self,
        *,
        person_id: str,
        order_id: str,
        line: int,
        occasion: str,
        relation: str | None,
        remind_on: datetime,
        at: datetime,
    ) -> None:
        """Keep a reminder candidate the shopper said yes to."""

    def reminders(self, *, person_id: str) -> list[dict[str, Any]]:
        """The person's reminder candidates."""

    def reminders_for(self, *, person_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """`reminders` of each of these people at once (people without any left out)."""
