"""Orders, their items, flags on purchases worth asking about, and what the shopper said."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

INTERESTS = "interests"
"""The attribute holding the departments a shopper buys for themself."""


class Purpose(str, enum.Enum):
    """What a purchase was for, in the shopper's words."""

    GIFT = "gift"
    SELF = "self"
    OTHER = "other"
    SKIPPED = "skipped"


class FlagStatus(str, enum.Enum):
    """Where a flag stands: open (may be asked), asked, done (answered or skipped)."""

    OPEN = "open"
    ASKED = "asked"
    DONE = "done"


@dataclass(frozen=True)
class OrderItem:
    """One line of an order."""

    line: int
    sku: str
    name: str
    category: str
    quantity: int = 1
    price: Decimal | None = None


@dataclass(frozen=True)
class Order:
    """An order as the shop sent it."""

    order_id: str
    customer_id: str
    ordered_at: datetime
    items: tuple[OrderItem, ...]


@dataclass(frozen=True)
class PastItem:
    """An item a person bought before, for the purchase-pattern rules."""

    order_id: str
    line: int
    name: str
    category: str
    ordered_at: datetime


@dataclass(frozen=True)
class PurchaseFlag:
    """An item that doesn't fit the person's pattern, with the reason in words."""

    id: int
    person_id: str
    order_id: str
    line: int
    item_name: str
    department: str
    reason: str
    created_at: datetime
    expires_at: datetime
    status: FlagStatus


@dataclass(frozen=True)
class PurchaseContext:
    """What the shopper said a purchase was for."""

    order_id: str
    line: int
    purpose: Purpose
    recipient_relation: str | None
    occasion: str | None
    provenance: str
    channel: str
    message_ref: str | None
    created_at: datetime
