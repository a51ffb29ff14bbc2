"""Rows to domain objects, and people loaded a batch at a time (one IN query per table)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Iterator, Sequence, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from bot.domain.model import (
    AttributeValue,
    ConsentRecord,
    ConsentStatus,
    Identity,
    Person,
    Provenance,
    QuestionRecord,
    QuestionStatus,
)
from bot.store.tables import attribute_values, consents, identities, question_states

T = TypeVar("T")


def to_value(row: Row) -> AttributeValue:
    """An `attribute_values` row as a value."""
    return AttributeValue(
        id=row.id,
        attribute=row.attribute,
        value=json.loads(row.value_json),
        provenance=Provenance(row.provenance),
        confidence=row.confidence,
        channel=row.channel,
        message_ref=row.message_ref,
        created_at=row.created_at,
        superseded_at=row.superseded_at,
    )


def to_consent(row: Row) -> ConsentRecord:
    """A `consents` row as a ledger entry."""
    return ConsentRecord(
        id=row.id,
        purpose=row.purpose,
        status=ConsentStatus(row.status),
        policy_version=row.policy_version,
        channel=row.channel,
        message_ref=row.message_ref,
        created_at=row.created_at,
        wording_hash=row.wording_hash,
    )


def to_question(row: Row) -> QuestionRecord:
    """A `question_states` row as a question state."""
    return QuestionRecord(
        question_id=row.question_id,
        status=QuestionStatus(row.status),
        asked_at=row.asked_at,
        updated_at=row.updated_at,
        why_asked=row.why_asked,
    )


IN_LIMIT = 500
"""At most this many ids per IN list (SQLite caps the bound variables of a statement)."""


def chunks(items: Sequence[T], size: int | None = None) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size` (`IN_LIMIT` unless given)."""
    size = size or IN_LIMIT
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_people(conn: Connection, heads: Sequence[tuple[str, datetime]]) -> list[Person]:
    """The people with these (id, created_at), fully loaded, in the order given.

    Four queries per `IN_LIMIT` people, not per person: identities, values, consents
    and question states, each for all their ids at once.
    """
    found = {person_id: Person(id=person_id, created_at=at) for person_id, at in heads}
    for part in chunks(list(found)):
        _fill(conn, found, list(part))
    return [found[person_id] for person_id, _ in heads]


def _fill(conn: Connection, found: dict[str, Person], ids: list[str]) -> None:
    for row in conn.execute(
        select(identities)
        .where(identities.c.person_id.in_(ids))
        .order_by(identities.c.created_at, identities.c.id)
    ):
        found[row.person_id].identities.append(Identity(row.channel, row.external_id))
    for row in conn.execute(
        select(attribute_values)
        .where(attribute_values.c.person_id.in_(ids))
        .order_by(attribute_values.c.created_at, attribute_values.c.id)
    ):
        found[row.person_id].values.append(to_value(row))
    for row in conn.execute(
        select(consents)
        .where(consents.c.person_id.in_(ids))
        .order_by(consents.c.created_at, consents.c.id)
    ):
        found[row.person_id].consents.append(to_consent(row))
    for row in conn.execute(select(question_states).where(question_states.c.person_id.in_(ids))):
        found[row.person_id].questions[row.question_id] = to_question(row)
