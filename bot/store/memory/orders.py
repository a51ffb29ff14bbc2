"""In-memory order repository: orders, purchase flags, purchase contexts, reminders."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Sequence

from bot.domain.purchases import FlagStatus, Order, PastItem, PurchaseContext, PurchaseFlag
from bot.store.memory.data import OrderData


class MemoryOrderRepository:
    """OrderRepository over the unit of work's copy of the data."""

    def __init__(self, data: OrderData) -> None:
        self._data = data

    def exists(self, *, order_id: str) -> bool:
        return order_id in self._data.orders

    def add(self, *, order: Order, person_id: str, at: datetime, source: str) -> bool:
        if order.order_id in self._data.orders:
            return False
        self._data.orders[order.order_id] = (person_id, order)
        return True

    def past_items(self, *, person_id: str, before: datetime, limit: int) -> list[PastItem]:
        items = [
            PastItem(order.order_id, item.line, item.name, item.category, order.ordered_at)
            for owner, order in self._data.orders.values()
            if owner == person_id and order.ordered_at < before
            for item in order.items
        ]
        items.sort(key=lambda i: (i.ordered_at, i.line), reverse=True)
        return items[:limit]

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
        flag = PurchaseFlag(
            max((f.id for f in self._data.flags), default=0) + 1,
            person_id,
            order_id,
            line,
            item_name,
            department,
            reason,
            at,
            expires_at,
            FlagStatus.OPEN,
        )
        self._data.flags.append(flag)

    def flags(self, *, person_id: str) -> list[PurchaseFlag]:
        return [f for f in self._data.flags if f.person_id == person_id]

    def set_flag_status(self, *, flag_id: int, status: FlagStatus) -> None:
        self._data.flags = [
            dataclasses.replace(f, status=status) if f.id == flag_id else f
            for f in self._data.flags
        ]

    def delete_expired_flags(self, *, at: datetime) -> int:
        kept = [f for f in self._data.flags if f.expires_at > at]
        removed = len(self._data.flags) - len(kept)
        self._data.flags = kept
        return removed

    def add_context(self, *, person_id: str, context: PurchaseContext) -> None:
        self._data.contexts.append((person_id, context))

    def contexts(self, *, person_id: str) -> list[PurchaseContext]:
        return self.contexts_for(person_ids=[person_id]).get(person_id, [])

    def contexts_for(self, *, person_ids: Sequence[str]) -> dict[str, list[PurchaseContext]]:
        wanted = set(person_ids)
        found: dict[str, list[PurchaseContext]] = {}
        for person_id, context in self._data.contexts:
            if person_id in wanted:
                found.setdefault(person_id, []).append(context)
        return found

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
        self._data.reminders.append(
            {
                "person_id": person_id,
                "order_id": order_id,
                "line": line,
                "occasion": occasion,
                "recipient_relation": relation,
                "remind_on": remind_on.isoformat(),
                "recorded_at": at.isoformat(),
            }
        )

    def reminders(self, *, person_id: str) -> list[dict[str, Any]]:
        return self.reminders_for(person_ids=[person_id]).get(person_id, [])

    def reminders_for(self, *, person_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        wanted = set(person_ids)
        found: dict[str, list[dict[str, Any]]] = {}
        for reminder in self._data.reminders:
            if reminder["person_id"] in wanted:
                found.setdefault(reminder["person_id"], []).append(
                    {k: v for k, v in reminder.items() if k != "person_id"}
                )
        return found
