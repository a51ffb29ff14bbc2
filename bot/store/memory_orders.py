"""In-memory orders, purchase flags and contexts, reminders and API tokens (the unit-test fake)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.purchases import FlagStatus, Order, PastItem, PurchaseContext, PurchaseFlag


@dataclass
class OrderData:
    """Everything the order fakes hold, copied per unit of work with the rest."""

    orders: dict[str, tuple[str, Order]] = field(default_factory=dict)
    flags: list[PurchaseFlag] = field(default_factory=list)
    contexts: list[tuple[str, PurchaseContext]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    def move(self, from_person: str, to_person: str) -> None:
        self.orders = {
            k: ((to_person if p == from_person else p), o) for k, (p, o) in self.orders.items()
        }
        self.flags = [
            dataclasses.replace(f, person_id=to_person) if f.person_id == from_person else f
            for f in self.flags
        ]
        self.contexts = [(to_person if p == from_person else p, c) for p, c in self.contexts]
        for reminder in self.reminders:
            if reminder["person_id"] == from_person:
                reminder["person_id"] = to_person

    def forget(self, person_id: str) -> None:
        self.orders = {k: v for k, v in self.orders.items() if v[0] != person_id}
        self.flags = [f for f in self.flags if f.person_id != person_id]
        self.contexts = [(p, c) for p, c in self.contexts if p != person_id]
        self.reminders = [r for r in self.reminders if r["person_id"] != person_id]


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
        return [c for p, c in self._data.contexts if p == person_id]

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
        return [
            {k: v for k, v in r.items() if k != "person_id"}
            for r in self._data.reminders
            if r["person_id"] == person_id
        ]


class MemoryTokenRepository:
    """TokenRepository over the unit of work's copy of the data."""

    def __init__(self, data: OrderData) -> None:
        self._data = data

    def add(self, *, token_hash: str, scope: str, at: datetime) -> None:
        self._data.tokens[token_hash] = scope

    def scope_of(self, *, token_hash: str) -> str | None:
        return self._data.tokens.get(token_hash)
