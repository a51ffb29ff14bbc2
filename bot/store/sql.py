"""SQLAlchemy adapters: engine factory, profile repository and unit of work."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from types import TracebackType
from typing import Any, Iterator

from sqlalchemy import (
    and_,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from bot.domain.linking import supersession
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
from bot.store.ports import ClaimedCode
from bot.store.sql_orders import SqlOrderRepository, SqlTokenRepository
from bot.store.sql_rights import SqlRightsRepository
from bot.store.tables import (
    attribute_values,
    audit_events,
    consents,
    data_exports,
    identities,
    inbound_receipts,
    link_attempts,
    link_codes,
    link_joins,
    orders,
    people,
    purchase_contexts,
    purchase_flags,
    question_states,
    reminder_candidates,
    tombstones,
)

PURCHASE_TABLES = (purchase_flags, purchase_contexts, reminder_candidates, orders)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, future=True, connect_args={"check_same_thread": False, "timeout": 15}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, issue BEGIN: savepoints then work.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            # IMMEDIATE takes the write lock up front, so concurrent writers wait
            # (busy timeout) instead of failing on a read-to-write upgrade.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def _to_value(row: Row) -> AttributeValue:
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


def _to_consent(row: Row) -> ConsentRecord:
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


def _to_question(row: Row) -> QuestionRecord:
    return QuestionRecord(
        question_id=row.question_id,
        status=QuestionStatus(row.status),
        asked_at=row.asked_at,
        updated_at=row.updated_at,
        why_asked=row.why_asked,
    )


class SqlProfileRepository:
    """ProfileRepository on one SQLAlchemy connection (inside a unit of work)."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def get(self, *, person_id: str) -> Person | None:
        row = self._conn.execute(select(people).where(people.c.id == person_id)).first()
        if row is None:
            return None
        return self._load(row.id, row.created_at)

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
        self._conn.execute(
            update(attribute_values)
            .where(
                attribute_values.c.person_id == person_id,
                attribute_values.c.attribute == value.attribute,
                attribute_values.c.superseded_at.is_(None),
            )
            .values(superseded_at=value.created_at)
        )
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
        values = [_to_value(row) for row in rows]
        wanted = supersession(values)
        for value in values:
            if value.id is not None and wanted.get(value.id) != value.superseded_at:
                self._conn.execute(
                    update(attribute_values)
                    .where(attribute_values.c.id == value.id)
                    .values(superseded_at=wanted[value.id])
                )

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
            .order_by(people.c.created_at, people.c.id)
        )
        return [self._load(row.id, row.created_at) for row in self._conn.execute(query)]

    def list_ids(self) -> list[str]:
        rows = self._conn.execute(select(people.c.id).order_by(people.c.created_at, people.c.id))
        return [row.id for row in rows]

    def iter_people(self) -> Iterator[Person]:
        for person_id in self.list_ids():
            person = self.get(person_id=person_id)
            if person is not None:
                yield person

    def list_identities(self) -> list[Identity]:
        rows = self._conn.execute(
            select(identities.c.channel, identities.c.external_id).order_by(
                identities.c.channel, identities.c.external_id
            )
        )
        return [Identity(row.channel, row.external_id) for row in rows]

    def _load(self, person_id: str, created_at: datetime) -> Person:
        conn = self._conn
        idents = conn.execute(
            select(identities)
            .where(identities.c.person_id == person_id)
            .order_by(identities.c.created_at, identities.c.id)
        )
        values = conn.execute(
            select(attribute_values)
            .where(attribute_values.c.person_id == person_id)
            .order_by(attribute_values.c.created_at, attribute_values.c.id)
        )
        ledger = conn.execute(
            select(consents)
            .where(consents.c.person_id == person_id)
            .order_by(consents.c.created_at, consents.c.id)
        )
        questions = conn.execute(
            select(question_states).where(question_states.c.person_id == person_id)
        )
        return Person(
            id=person_id,
            created_at=created_at,
            identities=[Identity(row.channel, row.external_id) for row in idents],
            values=[_to_value(row) for row in values],
            consents=[_to_consent(row) for row in ledger],
            questions={row.question_id: _to_question(row) for row in questions},
        )


class SqlReceiptRepository:
    """ReceiptRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add(self, *, channel: str, key: str, at: datetime) -> bool:
        nested = self._conn.begin_nested()
        try:
            self._conn.execute(
                insert(inbound_receipts).values(channel=channel, key=key, received_at=at)
            )
            nested.commit()
        except IntegrityError:
            nested.rollback()
            return False
        return True

    def delete_before(self, *, before: datetime) -> int:
        done = self._conn.execute(
            delete(inbound_receipts).where(inbound_receipts.c.received_at < before)
        )
        return int(done.rowcount)


class SqlLinkRepository:
    """LinkRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add_code(
        self,
        *,
        person_id: str,
        code_hash: str,
        issuer: Identity,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        self._conn.execute(
            update(link_codes)
            .where(link_codes.c.person_id == person_id, link_codes.c.used_at.is_(None))
            .values(used_at=created_at)
        )
        self._conn.execute(
            insert(link_codes).values(
                person_id=person_id,
                code_hash=code_hash,
                created_at=created_at,
                expires_at=expires_at,
                issuer_channel=issuer.channel,
                issuer_external_id=issuer.external_id,
            )
        )

    def claim_code(self, *, code_hash: str, at: datetime) -> ClaimedCode | None:
        row = self._conn.execute(
            select(link_codes)
            .where(
                link_codes.c.code_hash == code_hash,
                link_codes.c.used_at.is_(None),
                link_codes.c.expires_at > at,
            )
            .order_by(link_codes.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        claimed = self._conn.execute(
            update(link_codes)
            .where(link_codes.c.id == row.id, link_codes.c.used_at.is_(None))
            .values(used_at=at)
        ).rowcount
        if claimed != 1:
            return None
        issuer = (
            Identity(row.issuer_channel, row.issuer_external_id)
            if row.issuer_channel and row.issuer_external_id
            else None
        )
        return ClaimedCode(str(row.person_id), issuer)

    def add_failure(self, *, chat_key: str, source_key: str | None, at: datetime) -> None:
        self._conn.execute(
            insert(link_attempts).values(chat_key=chat_key, source_key=source_key, at=at)
        )

    def failures_since(
        self, *, since: datetime, chat_key: str | None = None, source_key: str | None = None
    ) -> int:
        query = select(func.count()).select_from(link_attempts).where(link_attempts.c.at > since)
        if chat_key is not None:
            query = query.where(link_attempts.c.chat_key == chat_key)
        if source_key is not None:
            query = query.where(link_attempts.c.source_key == source_key)
        return int(self._conn.execute(query).scalar() or 0)

    def add_join(self, *, person_id: str, identities: list[Identity], at: datetime) -> int:
        listed = json.dumps([[i.channel, i.external_id] for i in identities])
        done = self._conn.execute(
            insert(link_joins).values(person_id=person_id, identities_json=listed, at=at)
        )
        return int(done.inserted_primary_key[0])

    def join(self, *, join_id: int) -> tuple[str, list[Identity]] | None:
        row = self._conn.execute(select(link_joins).where(link_joins.c.id == join_id)).first()
        if row is None:
            return None
        identities = [Identity(str(c), str(e)) for c, e in json.loads(row.identities_json)]
        return str(row.person_id), identities

    def delete_join(self, *, join_id: int) -> None:
        self._conn.execute(delete(link_joins).where(link_joins.c.id == join_id))

    def delete_joins_before(self, *, before: datetime) -> int:
        done = self._conn.execute(delete(link_joins).where(link_joins.c.at < before))
        return int(done.rowcount)

    def add_audit(
        self, *, kind: str, person_id: str, details: dict[str, Any], at: datetime
    ) -> None:
        self._conn.execute(
            insert(audit_events).values(
                at=at, kind=kind, person_id=person_id, details_json=json.dumps(details)
            )
        )

    def audit_for(self, *, person_id: str) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            select(audit_events)
            .where(audit_events.c.person_id == person_id)
            .order_by(audit_events.c.at, audit_events.c.id)
        )
        return [
            {"at": row.at, "kind": row.kind, "details": json.loads(row.details_json)}
            for row in rows
        ]

    def rekey_audit(self, *, person_id: str, to: str) -> None:
        self._conn.execute(
            update(audit_events).where(audit_events.c.person_id == person_id).values(person_id=to)
        )

    def delete_expired_codes(self, *, at: datetime) -> int:
        done = self._conn.execute(delete(link_codes).where(link_codes.c.expires_at <= at))
        return int(done.rowcount)

    def delete_attempts_before(self, *, before: datetime) -> int:
        done = self._conn.execute(delete(link_attempts).where(link_attempts.c.at < before))
        return int(done.rowcount)


class SqlTombstoneRepository:
    """TombstoneRepository on one SQLAlchemy connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add(self, *, identity_hash: str, at: datetime) -> None:
        if not self.exists(identity_hash=identity_hash):
            self._conn.execute(insert(tombstones).values(identity_hash=identity_hash, erased_at=at))

    def exists(self, *, identity_hash: str) -> bool:
        found = self._conn.execute(
            select(tombstones.c.identity_hash).where(tombstones.c.identity_hash == identity_hash)
        ).first()
        return found is not None


class SqlUnitOfWork:
    """A transaction on the profile store; rolls back unless committed."""

    profiles: SqlProfileRepository
    receipts: SqlReceiptRepository
    links: SqlLinkRepository
    orders: SqlOrderRepository
    tokens: SqlTokenRepository
    tombstones: SqlTombstoneRepository
    rights: SqlRightsRepository

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def __enter__(self) -> "SqlUnitOfWork":
        self._conn = self._engine.connect()
        self._conn.begin()
        self.profiles = SqlProfileRepository(self._conn)
        self.receipts = SqlReceiptRepository(self._conn)
        self.links = SqlLinkRepository(self._conn)
        self.orders = SqlOrderRepository(self._conn)
        self.tokens = SqlTokenRepository(self._conn)
        self.tombstones = SqlTombstoneRepository(self._conn)
        self.rights = SqlRightsRepository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            self.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None
        self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()


class SqlUnitOfWorkFactory:
    """Creates units of work on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)
