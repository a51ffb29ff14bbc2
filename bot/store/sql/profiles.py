"""SQL profile repository: people, identities, values, consent ledger, question states."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Iterator, Sequence

from sqlalchemy import and_, delete, exists, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.domain.model import (
    AttributeValue,
    ConsentRecord,
    ConsentStatus,
    Identity,
    Person,
    QuestionRecord,
    supersede,
    supersession,
)
from bot.store.sql.loading import chunks, load_people, to_value
from bot.store.sql.orders import PURCHASE_TABLES
from bot.store.tables import (
    attribute_values,
    consents,
    data_exports,
    identities,
    link_codes,
    link_joins,
    orders,
    people,
    purchase_contexts,
    question_states,
)

_OLDEST_FIRST = (people.c.created_at, people.c.id)


class SqlProfileRepository:
    """ProfileRepository on one SQLAlchemy connection (inside a unit of work)."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def get(self, *, person_id: str) -> Person | None:
        found = self.get_many(person_ids=[person_id])
        return found[0] if found else None

    def get_many(self, *, person_ids: Sequence[str]) -> list[Person]:
        created: dict[str, datetime] = {}
        for part in chunks(person_ids):
            rows = self._conn.execute(
                select(people.c.id, people.c.created_at).where(people.c.id.in_(list(part)))
            )
            created.update((row.id, row.created_at) for row in rows)
        heads = [(i, created[i]) for i in person_ids if i in created]
        return load_people(self._conn, heads)

    def find(self, *, identity: Identity) -> Person | None:
        person_id = self._conn.execute(
            select(identities.c.person_id).where(
                identities.c.channel == identity.channel,
                identities.c.external_id == identity.external_id,
            )
        ).scalar()
        return self.get(person_id=person_id) if person_id else None

    def get_or_create(self, *, identity: Identity, at: datetime) -> Person:
        existing = self.find(identity=identity)
        if existing is not None:
            return existing
        person_id = uuid.uuid4().hex
        nested = self._conn.begin_nested()
        try:
            self._conn.execute(insert(people).values(id=person_id, created_at=at))
            self._conn.execute(
                insert(identities).values(
                    person_id=person_id,
                    channel=identity.channel,
                    external_id=identity.external_id,
                    created_at=at,
                )
            )
            nested.commit()
        except IntegrityError:
            nested.rollback()
            raced = self.find(identity=identity)
            if raced is None:
                raise
            return raced
        return Person(id=person_id, created_at=at, identities=[identity])

    def add_value(self, *, person_id: str, value: AttributeValue) -> None:
        rows = self._conn.execute(
            select(attribute_values).where(
                attribute_values.c.person_id == person_id,
                attribute_values.c.attribute == value.attribute,
                attribute_values.c.superseded_at.is_(None),
            )
        )
        current = [to_value(row) for row in rows]
        kept = supersede(current, value)[:-1]  # the stored values, as the rule leaves them
        wanted = {v.id: w.superseded_at for v, w in zip(current, kept, strict=True) if v.id}
        self._write_supersession(current, wanted, still_current=True)
        self._conn.execute(
            insert(attribute_values).values(
                person_id=person_id,
                attribute=value.attribute,
                value_json=json.dumps(value.value, ensure_ascii=False, sort_keys=True),
                provenance=value.provenance.value,
                confidence=value.confidence,
                channel=value.channel,
                message_ref=value.message_ref,
                created_at=value.created_at,
                superseded_at=value.superseded_at,
            )
        )

    def add_consent(self, *, person_id: str, record: ConsentRecord) -> None:
        self._conn.execute(
            insert(consents).values(
                person_id=person_id,
                purpose=record.purpose,
                status=record.status.value,
                policy_version=record.policy_version,
                channel=record.channel,
                message_ref=record.message_ref,
                created_at=record.created_at,
                wording_hash=record.wording_hash,
            )
        )

    def save_question(self, *, person_id: str, record: QuestionRecord) -> None:
        values = {
            "status": record.status.value,
            "asked_at": record.asked_at,
            "updated_at": record.updated_at,
            "why_asked": record.why_asked,
        }
        changed = self._conn.execute(
            update(question_states)
            .where(
                question_states.c.person_id == person_id,
                question_states.c.question_id == record.question_id,
            )
            .values(**values)
        ).rowcount
        if not changed:
            self._conn.execute(
                insert(question_states).values(
                    person_id=person_id, question_id=record.question_id, **values
                )
            )

    def create_empty(self, *, at: datetime) -> str:
        person_id = uuid.uuid4().hex
        self._conn.execute(insert(people).values(id=person_id, created_at=at))
        return person_id

    def move_identity(self, *, identity: Identity, to_person_id: str) -> None:
        self._conn.execute(
            update(identities)
            .where(
                identities.c.channel == identity.channel,
                identities.c.external_id == identity.external_id,
            )
            .values(person_id=to_person_id)
        )

    def move_records(
        self, *, from_person_id: str, to_person_id: str, channel: str | None = None
    ) -> None:
        for table in (attribute_values, consents):
            condition = table.c.person_id == from_person_id
            if channel is not None:
                condition = and_(condition, table.c.channel == channel)
            self._conn.execute(update(table).where(condition).values(person_id=to_person_id))
        if channel is None:  # orders belong to the shop account, not to a chat channel
            for table in PURCHASE_TABLES:
                self._conn.execute(
                    update(table)
                    .where(table.c.person_id == from_person_id)
                    .values(person_id=to_person_id)
                )

    def replace_questions(self, *, person_id: str, records: dict[str, QuestionRecord]) -> None:
        self._conn.execute(delete(question_states).where(question_states.c.person_id == person_id))
        for record in records.values():
            self.save_question(person_id=person_id, record=record)

    def recompute_supersession(self, *, person_id: str) -> None:
        rows = self._conn.execute(
            select(attribute_values).where(attribute_values.c.person_id == person_id)
        )
        values = [to_value(row) for row in rows]
        self._write_supersession(values, supersession(values))

    def _write_supersession(
        self,
        values: Sequence[AttributeValue],
        wanted: dict[int, datetime | None],
        *,
        still_current: bool = False,
    ) -> None:
        """Store the `superseded_at` wanted for each value whose stored one differs.

        With `still_current`, only rows still current are touched (as a concurrent
        writer may have superseded them since they were read).
        """
        ids_by_time: dict[datetime | None, list[int]] = {}
        for value in values:
            if value.id is None or value.id not in wanted:
                continue
            if wanted[value.id] != value.superseded_at:
                ids_by_time.setdefault(wanted[value.id], []).append(value.id)
        for at, ids in ids_by_time.items():
            for part in chunks(ids):
                query = update(attribute_values).where(attribute_values.c.id.in_(list(part)))
                if still_current:
                    query = query.where(attribute_values.c.superseded_at.is_(None))
                self._conn.execute(query.values(superseded_at=at))

    def delete(self, *, person_id: str) -> None:
        for table in (
            identities,
            attribute_values,
            consents,
            question_states,
            link_codes,
            link_joins,
            data_exports,
            *PURCHASE_TABLES,
        ):
            self._conn.execute(delete(table).where(table.c.person_id == person_id))
        self._conn.execute(delete(people).where(people.c.id == person_id))

    def anonymous_before(self, *, before: datetime) -> list[Person]:
        def none_of(table: Any, *conditions: Any) -> Any:
            return ~exists().where(table.c.person_id == people.c.id, *conditions)

        query = (
            select(people.c.id, people.c.created_at)
            .where(
                people.c.created_at < before,
                none_of(attribute_values),
                none_of(
                    consents,
                    (consents.c.status == ConsentStatus.GRANTED.value)
                    | (consents.c.created_at >= before),
                ),
                none_of(question_states, question_states.c.updated_at >= before),
                none_of(orders),
                none_of(purchase_contexts),
                none_of(identities, identities.c.channel == "shop"),
            )
            .order_by(*_OLDEST_FIRST)
        )
        heads = [(row.id, row.created_at) for row in self._conn.execute(query)]
        return load_people(self._conn, heads)

    def list_ids(self) -> list[str]:
        rows = self._conn.execute(select(people.c.id).order_by(*_OLDEST_FIRST))
        return [row.id for row in rows]

    def iter_people(self, *, batch: int = 500) -> Iterator[Person]:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        rows = self._conn.execute(select(people.c.id, people.c.created_at).order_by(*_OLDEST_FIRST))
        heads = [(row.id, row.created_at) for row in rows]
        for start in range(0, len(heads), batch):
            yield from load_people(self._conn, heads[start : start + batch])

    def list_identities(self) -> list[Identity]:
        rows = self._conn.execute(
            select(identities.c.channel, identities.c.external_id).order_by(
                identities.c.channel, identities.c.external_id
            )
        )
        return [Identity(row.channel, row.external_id) for row in rows]
