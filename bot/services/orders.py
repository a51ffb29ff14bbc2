"""Taking in shop orders: validation with field errors, idempotency, flags on unusual items."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable

from pydantic import BaseModel, Field, ValidationError, validator

from bot.domain.errors import RapportError
from bot.domain.model import Identity, Provenance
from bot.domain.patterns import PatternRules, department, unusual
from bot.domain.purchases import INTERESTS, Order, OrderItem
from bot.services.erasure import ErasureService
from bot.store.ports import UnitOfWork, UnitOfWorkFactory

SHOP_CHANNEL = "shop"
MAX_ITEMS = 5000


class InvalidOrder(RapportError):
    """An order that cannot be taken in; `errors` says which field and why."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


def _storable_text(value: Any) -> Any:
    """Refuse text no store keeps intact: NUL, and unpaired surrogates (JSON `\\ud800`)."""
    if isinstance(value, str) and (
        "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    ):
        raise ValueError("must not contain NUL or unpaired surrogate characters")
    return value


class _ItemIn(BaseModel):
    sku: str = Field(..., min_length=1, max_length=64)
    name: str = Field(..., min_length=1, max_length=200)
    category: str = Field(..., min_length=1, max_length=200, regex=r"^[^/\s][^\x00]*$")
    price: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    quantity: int = Field(1, ge=1, le=100000)

    class Config:
        extra = "forbid"
        anystr_strip_whitespace = True

    _text = validator("sku", "name", "category", pre=True, allow_reuse=True)(_storable_text)


class _OrderIn(BaseModel):
    order_id: str = Field(..., min_length=1, max_length=64)
    customer_id: str = Field(..., min_length=1, max_length=128)
    ordered_at: datetime
    items: list[_ItemIn] = Field(..., min_items=1, max_items=MAX_ITEMS)

    class Config:
        extra = "forbid"
        anystr_strip_whitespace = True

    _text = validator("order_id", "customer_id", pre=True, allow_reuse=True)(_storable_text)

    @validator("ordered_at")
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must include a timezone, e.g. 2026-11-20T10:00:00Z")
        try:
            value.astimezone(timezone.utc)  # stored in UTC: 0001-01-01T00:00+05:00 has no UTC
        except OverflowError:
            raise ValueError("is out of range") from None
        return value


def parse_order(raw: Any) -> Order:
    """An Order from one JSON object, or InvalidOrder listing every bad field."""
    if not isinstance(raw, dict):
        raise InvalidOrder([{"field": "", "error": "each order must be a JSON object"}])
    try:
        parsed = _OrderIn.parse_obj(raw)
    except ValidationError as exc:
        raise InvalidOrder(
            [
                {"field": ".".join(str(p) for p in error["loc"]), "error": error["msg"]}
                for error in exc.errors()
            ]
        ) from None
    items = tuple(
        OrderItem(
            line=n,
            sku=i.sku,
            name=i.name,
            category=i.category,
            quantity=i.quantity,
            price=i.price,
        )
        for n, i in enumerate(parsed.items, start=1)
    )
    return Order(parsed.order_id, parsed.customer_id, parsed.ordered_at, items)


@dataclass(frozen=True)
class Ingested:
    """The outcome of taking in one order."""

    order_id: str
    created: bool
    flagged: int
    erased: bool = False


class OrderService:
    """Stores orders for the shop's customers and flags items worth asking about."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        rules: PatternRules,
        clock: Callable[[], datetime],
        erasure: ErasureService | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._rules = rules
        self._clock = clock
        self._erasure = erasure

    def ingest(self, order: Order, *, source: str) -> Ingested:
        """Store `order` unless its id is known (then nothing changes)."""
        at = self._clock()
        with self._uow_factory() as uow:
            if uow.orders.exists(order_id=order.order_id):
                return Ingested(order.order_id, created=False, flagged=0)
            identity = Identity(SHOP_CHANNEL, order.customer_id)
            if self._erasure is not None and self._erasure.was_erased(uow, identity):
                # The customer asked to be forgotten: never re-create them silently.
                return Ingested(order.order_id, created=False, flagged=0, erased=True)
            person = uow.profiles.get_or_create(identity=identity, at=at)
            if not uow.orders.add(order=order, person_id=person.id, at=at, source=source):
                return Ingested(order.order_id, created=False, flagged=0)
            flagged = self._flag(uow, person.id, order, _interests(person.current_values()), at)
            uow.commit()
        return Ingested(order.order_id, created=True, flagged=flagged)

    def _flag(
        self, uow: UnitOfWork, person_id: str, order: Order, interests: frozenset[str], at: datetime
    ) -> int:
        history = uow.orders.past_items(
            person_id=person_id, before=order.ordered_at, limit=self._rules.history_items
        )
        expires = at + timedelta(days=self._rules.flag_ttl_days)
        count = 0
        for item in order.items:
            reason = unusual(item, history, self._rules, interests)
            if reason is None:
                continue
            uow.orders.add_flag(
                person_id=person_id,
                order_id=order.order_id,
                line=item.line,
                item_name=item.name,
                department=department(item.category, self._rules.department_depth),
                reason=reason,
                at=at,
                expires_at=expires,
            )
            count += 1
        return count

    def ingest_lines(self, lines: Iterable[str], *, source: str) -> list[dict[str, Any]]:
        """Take in JSON Lines; one result per non-blank line (errors do not stop the rest)."""
        results: list[dict[str, Any]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                order = parse_order(json.loads(line))
            except ValueError:
                results.append({"line": number, "errors": [{"field": "", "error": "not JSON"}]})
                continue
            except InvalidOrder as invalid:
                results.append({"line": number, "errors": invalid.errors})
                continue
            done = self.ingest(order, source=source)
            results.append(
                {
                    "line": number,
                    "order_id": done.order_id,
                    "created": done.created,
                    "flagged": done.flagged,
                }
            )
        return results


def _interests(current: dict[str, Any]) -> frozenset[str]:
    value = current.get(INTERESTS)
    if value is None or value.provenance is not Provenance.STATED:
        return frozenset()
    selected = value.value.get("selected", []) if isinstance(value.value, dict) else []
    return frozenset(str(s) for s in selected)
