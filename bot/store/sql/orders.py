"""SQL order repository: orders and items, purchase flags, purchase contexts, reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from bot.domain.purchases import (
    FlagStatus,
    Order,
    PastItem,
    PurchaseContext,
    PurchaseFlag,
    Purpose,
)
from bot.store.sql.loading import chunks
from bot.store.tables import (
    order_items,
    orders,
    purchase_contexts,
    purchase_flags,
    reminder_candidates,
)

PURCHASE_TABLES = (purchase_flags, purchase_contexts, reminder_candidates, orders)
"""The order tables that name a person (items hang off their order)."""


def _flag(row: Row) -> PurchaseFlag:
    return PurchaseFlag(
        id=row.id,
        person_id=row.person_id,
        order_id=row.order_id,
        line=row.line,
        item_name=row.item_name,
        department=row.department,
        reason=row.reason,
        created_at=row.created_at,
        expires_at=row.expires_at,
        status=FlagStatus(row.status),
    )


def _context(row: Row) -> PurchaseContext:
    return PurchaseContext(
        order_id=row.order_id,
        line=row.line,
        purpose=Purpose(row.purpose),
        recipient_relation=row.recipient_relation,
        occasion=row.occasion,
        provenance=row.provenance,
        channel=row.channel,
        message_ref=row.message_ref,
        created_at=row.created_at,
    )


def _reminder(row: Row) -> dict[str, Any]:
    return {
        "order_id": row.order_id,
        "line": row.line,
        "occasion": row.occasion,
        "recipient_relation": row.recipient_relation,
        "remind_on": row.remind_on.isoformat(),
        "recorded_at": row.created_at.isoformat(),
    }


class SqlOrderRepository:
    """OrderRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def exists(self, *, order_id: str) -> bool:
        found = self._conn.execute(
            select(orders.c.order_id).where(orders.c.order_id == order_id)
        ).first()
        return found is not None

    def add(self, *, order: Order, person_id: str, at: datetime, source: str) -> bool:
        nested = self._conn.begin_nested()
        try:
            self._conn.execute(
                insert(orders).values(
                    order_id=order.order_id,
                    person_id=person_id,
                    ordered_at=order.ordered_at,
                    received_at=at,
                    source=source,
                )
            )
            nested.commit()
        except IntegrityError:  # the same order_id sent twice at the same moment
            nested.rollback()
            return False
        if order.items:
            self._conn.execute(
                insert(order_items),
                [
                    {
                        "order_id": order.order_id,
                        "line": item.line,
                        "sku": item.sku,
                        "name": item.name,
                        "category": item.category,
                        "quantity": item.quantity,
                        "price": item.price,
                    }
                    for item in order.items
                ],
            )
        return True

    def past_items(self, *, person_id: str, before: datetime, limit: int) -> list[PastItem]:
        rows = self._conn.execute(
            select(
                order_items.c.order_id,
                order_items.c.line,
                order_items.c.name,
                order_items.c.category,
                orders.c.ordered_at,
            )
            .join(orders, orders.c.order_id == order_items.c.order_id)
            .where(orders.c.person_id == person_id, orders.c.ordered_at < before)
            .order_by(orders.c.ordered_at.desc(), order_items.c.line.desc())
            .limit(limit)
        )
        return [PastItem(r.order_id, r.line, r.name, r.category, r.ordered_at) for r in rows]

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
        self._conn.execute(
            insert(purchase_flags).values(
                person_id=person_id,
                order_id=order_id,
                line=line,
                item_name=item_name,
                department=department,
                reason=reason,
                created_at=at,
                expires_at=expires_at,
                status=FlagStatus.OPEN.value,
            )
        )

    def flags(self, *, person_id: str) -> list[PurchaseFlag]:
        rows = self._conn.execute(
            select(purchase_flags)
            .where(purchase_flags.c.person_id == person_id)
            .order_by(purchase_flags.c.created_at, purchase_flags.c.id)
        )
        return [_flag(row) for row in rows]

    def set_flag_status(self, *, flag_id: int, status: FlagStatus) -> None:
        self._conn.execute(
            update(purchase_flags).where(purchase_flags.c.id == flag_id).values(status=status.value)
        )

    def delete_expired_flags(self, *, at: datetime) -> int:
        done = self._conn.execute(delete(purchase_flags).where(purchase_flags.c.expires_at <= at))
        return int(done.rowcount)

    def add_context(self, *, person_id: str, context: PurchaseContext) -> None:
        self._conn.execute(
            insert(purchase_contexts).values(
                person_id=person_id,
                order_id=context.order_id,
                line=context.line,
                purpose=context.purpose.value,
                recipient_relation=context.recipient_relation,
                occasion=context.occasion,
                provenance=context.provenance,
                channel=context.channel,
                message_ref=context.message_ref,
                created_at=context.created_at,
            )
        )

    def contexts(self, *, person_id: str) -> list[PurchaseContext]:
        return self.contexts_for(person_ids=[person_id]).get(person_id, [])

    def contexts_for(self, *, person_ids: Sequence[str]) -> dict[str, list[PurchaseContext]]:
        found: dict[str, list[PurchaseContext]] = {}
        for part in chunks(person_ids):
            rows = self._conn.execute(
                select(purchase_contexts)
                .where(purchase_contexts.c.person_id.in_(list(part)))
                .order_by(purchase_contexts.c.created_at, purchase_contexts.c.id)
            )
            for row in rows:
                found.setdefault(row.person_id, []).append(_context(row))
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
        self._conn.execute(
            insert(reminder_candidates).values(
                person_id=person_id,
                order_id=order_id,
                line=line,
                occasion=occasion,
                recipient_relation=relation,
                remind_on=remind_on,
                created_at=at,
            )
        )

    def reminders(self, *, person_id: str) -> list[dict[str, Any]]:
        return self.reminders_for(person_ids=[person_id]).get(person_id, [])

    def reminders_for(self, *, person_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for part in chunks(person_ids):
            rows = self._conn.execute(
                select(reminder_candidates)
                .where(reminder_candidates.c.person_id.in_(list(part)))
                .order_by(reminder_candidates.c.id)
            )
            for r in rows:
                found.setdefault(r.person_id, []).append(_reminder(r))
        return found
