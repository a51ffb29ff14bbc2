"""What the in-memory store holds, copied whole per unit of work."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.model import Identity, Person
from bot.domain.purchases import Order, PurchaseContext, PurchaseFlag


@dataclass
class OrderData:
    """Orders, purchase flags, purchase contexts and reminder candidates."""

    orders: dict[str, tuple[str, Order]] = field(default_factory=dict)
    flags: list[PurchaseFlag] = field(default_factory=list)
    contexts: list[tuple[str, PurchaseContext]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)

    def move(self, from_person: str, to_person: str) -> None:
        """Give everything of `from_person` to `to_person`."""
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
        """Drop everything of `person_id`."""
        self.orders = {k: v for k, v in self.orders.items() if v[0] != person_id}
        self.flags = [f for f in self.flags if f.person_id != person_id]
        self.contexts = [(p, c) for p, c in self.contexts if p != person_id]
        self.reminders = [r for r in self.reminders if r["person_id"] != person_id]


class StoreData:
    """Every aggregate's data; a unit of work works on a deep copy of it."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.owners: dict[Identity, str] = {}
        self.receipts: dict[tuple[str, str], datetime] = {}
        self.codes: list[dict[str, Any]] = []
        self.attempts: list[tuple[str, str | None, datetime]] = []
        self.joins: dict[int, tuple[str, list[Identity], datetime]] = {}
        self.audit: list[dict[str, Any]] = []
        self.purchases = OrderData()
        self.tokens: dict[str, str] = {}
        self.tombstones: set[str] = set()
        self.exports: dict[str, dict[str, Any]] = {}
        self.wordings: dict[str, str] = {}
        self.next_id = 1
