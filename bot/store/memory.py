"""In-memory profile store: the fake used by unit tests (it passes the store contract suite)."""

from __future__ import annotations

import copy
import dataclasses
import threading
import uuid
from datetime import datetime
from types import TracebackType
from typing import Any, Iterator

from bot.domain.linking import supersession
from bot.domain.model import (
    AttributeValue,
    ConsentRecord,
    ConsentStatus,
    Identity,
    Person,
    QuestionRecord,
)
from bot.store.memory_orders import (
    MemoryOrderRepository,
    MemoryTokenRepository,
    OrderData,
)
from bot.store.ports import ClaimedCode


class _Data:
    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.owners: dict[Identity, str] = {}
        self.receipts: dict[tuple[str, str], datetime] = {}
        self.codes: list[dict[str, Any]] = []
        self.attempts: list[tuple[str, str | None, datetime]] = []
        self.joins: dict[int, tuple[str, list[Identity], datetime]] = {}
        self.audit: list[dict[str, Any]] = []
        self.purchases = OrderData()
        self.tombstones: set[str] = set()
        self.exports: dict[str, dict[str, Any]] = {}
        self.wordings: dict[str, str] = {}
        self.next_id = 1


class MemoryProfileRepository:
    """ProfileRepository over a private copy of the data (committed by the unit of work)."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    def get(self, *, person_id: str) -> Person | None:
        person = self._data.people.get(person_id)
        return copy.deepcopy(person) if person else None

    def find(self, *, identity: Identity) -> Person | None:
        person_id = self._data.owners.get(identity)
        return self.get(person_id=person_id) if person_id else None

    def get_or_create(self, *, identity: Identity, at: datetime) -> Person:
        if at.tzinfo is None:
            raise ValueError("naive datetime given to the profile store")
        existing = self.find(identity=identity)
        if existing:
            return existing
        person = Person(id=uuid.uuid4().hex, created_at=at, identities=[identity])
        self._data.people[person.id] = person
        self._data.owners[identity] = person.id
        return copy.deepcopy(person)

    def _person(self, person_id: str) -> Person:
        return self._data.people[person_id]

    def _next_id(self) -> int:
        self._data.next_id += 1
        return self._data.next_id

    def add_value(self, *, person_id: str, value: AttributeValue) -> None:
        person = self._person(person_id)
        person.values = [
            dataclasses.replace(v, superseded_at=value.created_at)
            if v.attribute == value.attribute and v.is_current
            else v
            for v in person.values
        ]
        person.values.append(dataclasses.replace(value, id=self._next_id()))

    def add_consent(self, *, person_id: str, record: ConsentRecord) -> None:
        self._person(person_id).consents.append(dataclasses.replace(record, id=self._next_id()))

    def save_question(self, *, person_id: str, record: QuestionRecord) -> None:
        self._person(person_id).questions[record.question_id] = record

    def create_empty(self, *, at: datetime) -> str:
        person = Person(id=uuid.uuid4().hex, created_at=at)
        self._data.people[person.id] = person
        return person.id

    def move_identity(self, *, identity: Identity, to_person_id: str) -> None:
        owner = self._data.owners.get(identity)
        if owner is None:
            return
        self._person(owner).identities.remove(identity)
        self._person(to_person_id).identities.append(identity)
        self._data.owners[identity] = to_person_id

    def move_records(
        self, *, from_person_id: str, to_person_id: str, channel: str | None = None
    ) -> None:
        source, target = self._person(from_person_id), self._person(to_person_id)
        moving = [v for v in source.values if channel is None or v.channel == channel]
        source.values = [v for v in source.values if v not in moving]
        target.values.extend(moving)
        ledger = [c for c in source.consents if channel is None or c.channel == channel]
        source.consents = [c for c in source.consents if c not in ledger]
        target.consents.extend(ledger)
        if channel is None:
            self._data.purchases.move(from_person_id, to_person_id)

    def replace_questions(self, *, person_id: str, records: dict[str, QuestionRecord]) -> None:
        self._person(person_id).questions = dict(records)

    def recompute_supersession(self, *, person_id: str) -> None:
        person = self._person(person_id)
        wanted = supersession(person.values)
        person.values = [
            dataclasses.replace(v, superseded_at=wanted.get(v.id or 0, v.superseded_at))
            for v in person.values
        ]

    def delete(self, *, person_id: str) -> None:
        person = self._data.people.pop(person_id)
        for identity in person.identities:
            self._data.owners.pop(identity, None)
        self._data.codes = [c for c in self._data.codes if c["person_id"] != person_id]
        self._data.joins = {k: v for k, v in self._data.joins.items() if v[0] != person_id}
        self._data.exports = {
            k: v for k, v in self._data.exports.items() if v["person_id"] != person_id
        }
        self._data.purchases.forget(person_id)

    def list_ids(self) -> list[str]:
        ordered = sorted(self._data.people.values(), key=lambda p: (p.created_at, p.id))
        return [p.id for p in ordered]

    def iter_people(self) -> Iterator[Person]:
        for person_id in self.list_ids():
            found = self.get(person_id=person_id)
            if found:
                yield found

    def list_identities(self) -> list[Identity]:
        return sorted(self._data.owners, key=lambda i: (i.channel, i.external_id))

    def anonymous_before(self, *, before: datetime) -> list[Person]:
        buying = {p for p, _ in self._data.purchases.orders.values()}
        buying |= {p for p, _ in self._data.purchases.contexts}
        found = [
            person
            for person in self._data.people.values()
            if person.created_at < before
            and not person.values
            and not any(
                c.status is ConsentStatus.GRANTED or c.created_at >= before for c in person.consents
            )
            and not any(q.updated_at >= before for q in person.questions.values())
            and person.id not in buying
            and not any(i.channel == "shop" for i in person.identities)
        ]
        found.sort(key=lambda p: (p.created_at, p.id))
        return [copy.deepcopy(p) for p in found]


class MemoryReceiptRepository:
    """ReceiptRepository over the unit of work's copy of the data."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    def add(self, *, channel: str, key: str, at: datetime) -> bool:
        if (channel, key) in self._data.receipts:
            return False
        self._data.receipts[(channel, key)] = at
        return True

    def delete_before(self, *, before: datetime) -> int:
        old = [k for k, at in self._data.receipts.items() if at < before]
        for k in old:
            del self._data.receipts[k]
        return len(old)


class MemoryLinkRepository:
    """LinkRepository over the unit of work's copy of the data."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    def add_code(
        self,
        *,
        person_id: str,
        code_hash: str,
        issuer: Identity,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        for code in self._data.codes:
            if code["person_id"] == person_id and code["used_at"] is None:
                code["used_at"] = created_at
        self._data.codes.append(
            {
                "person_id": person_id,
                "hash": code_hash,
                "issuer": issuer,
                "expires_at": expires_at,
                "used_at": None,
            }
        )

    def claim_code(self, *, code_hash: str, at: datetime) -> ClaimedCode | None:
        for code in reversed(self._data.codes):
            if code["hash"] == code_hash and code["used_at"] is None and code["expires_at"] > at:
                code["used_at"] = at
                return ClaimedCode(str(code["person_id"]), code["issuer"])
        return None

    def add_failure(self, *, chat_key: str, source_key: str | None, at: datetime) -> None:
        self._data.attempts.append((chat_key, source_key, at))

    def failures_since(
        self, *, since: datetime, chat_key: str | None = None, source_key: str | None = None
    ) -> int:
        return sum(
            1
            for chat, source, at in self._data.attempts
            if at > since
            and (chat_key is None or chat == chat_key)
            and (source_key is None or source == source_key)
        )

    def add_join(self, *, person_id: str, identities: list[Identity], at: datetime) -> int:
        join_id = max(self._data.joins, default=0) + 1
        self._data.joins[join_id] = (person_id, list(identities), at)
        return join_id

    def join(self, *, join_id: int) -> tuple[str, list[Identity]] | None:
        found = self._data.joins.get(join_id)
        if found is None or found[0] not in self._data.people:
            return None
        return found[0], list(found[1])

    def delete_join(self, *, join_id: int) -> None:
        self._data.joins.pop(join_id, None)

    def delete_joins_before(self, *, before: datetime) -> int:
        old = [key for key, (_, _, at) in self._data.joins.items() if at < before]
        for key in old:
            del self._data.joins[key]
        return len(old)

    def add_audit(
        self, *, kind: str, person_id: str, details: dict[str, Any], at: datetime
    ) -> None:
        self._data.audit.append(
            {"at": at, "kind": kind, "person_id": person_id, "details": copy.deepcopy(details)}
        )

    def audit_for(self, *, person_id: str) -> list[dict[str, Any]]:
        return [
            {"at": e["at"], "kind": e["kind"], "details": e["details"]}
            for e in self._data.audit
            if e["person_id"] == person_id
        ]

    def rekey_audit(self, *, person_id: str, to: str) -> None:
        for event in self._data.audit:
            if event["person_id"] == person_id:
                event["person_id"] = to

    def delete_expired_codes(self, *, at: datetime) -> int:
        kept = [c for c in self._data.codes if c["expires_at"] > at]
        removed = len(self._data.codes) - len(kept)
        self._data.codes = kept
        return removed

    def delete_attempts_before(self, *, before: datetime) -> int:
        kept = [a for a in self._data.attempts if a[2] >= before]
        removed = len(self._data.attempts) - len(kept)
        self._data.attempts = kept
        return removed


class MemoryTombstoneRepository:
    """TombstoneRepository over the unit of work's copy of the data."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    def add(self, *, identity_hash: str, at: datetime) -> None:
        self._data.tombstones.add(identity_hash)

    def exists(self, *, identity_hash: str) -> bool:
        return identity_hash in self._data.tombstones


class MemoryRightsRepository:
    """RightsRepository over the unit of work's copy of the data."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    def add_export(
        self, *, token_hash: str, person_id: str, created_at: datetime, expires_at: datetime
    ) -> None:
        if token_hash in self._data.exports:
            raise ValueError("duplicate export token")
        self._data.exports[token_hash] = {
            "person_id": person_id,
            "expires_at": expires_at,
            "used_at": None,
        }

    def claim_export(self, *, token_hash: str, at: datetime) -> str | None:
        if not self.export_is_live(token_hash=token_hash, at=at):
            return None
        link = self._data.exports[token_hash]
        link["used_at"] = at
        return str(link["person_id"])

    def export_is_live(self, *, token_hash: str, at: datetime) -> bool:
        link = self._data.exports.get(token_hash)
        return link is not None and link["used_at"] is None and link["expires_at"] > at

    def add_wording(
        self, *, wording_hash: str, text: str, policy_version: str, at: datetime
    ) -> None:
        self._data.wordings.setdefault(wording_hash, text)

    def wording(self, *, wording_hash: str) -> str | None:
        return self._data.wordings.get(wording_hash)


class MemoryUnitOfWork:
    """Works on a copy of the shared data; commit swaps it in (serialised by a lock)."""

    profiles: MemoryProfileRepository
    receipts: MemoryReceiptRepository
    links: MemoryLinkRepository
    orders: MemoryOrderRepository
    tokens: MemoryTokenRepository
    tombstones: MemoryTombstoneRepository
    rights: MemoryRightsRepository

    def __init__(self, store: "MemoryStore") -> None:
        self._store = store
        self._working: _Data | None = None

    def __enter__(self) -> "MemoryUnitOfWork":
        self._store.lock.acquire()
        self._working = copy.deepcopy(self._store.data)
        self._bind()
        return self

    def _bind(self) -> None:
        assert self._working is not None
        self.profiles = MemoryProfileRepository(self._working)
        self.receipts = MemoryReceiptRepository(self._working)
        self.links = MemoryLinkRepository(self._working)
        self.orders = MemoryOrderRepository(self._working.purchases)
        self.tokens = MemoryTokenRepository(self._working.purchases)
        self.tombstones = MemoryTombstoneRepository(self._working)
        self.rights = MemoryRightsRepository(self._working)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        self._store.lock.release()

    def commit(self) -> None:
        assert self._working is not None
        self._store.data = copy.deepcopy(self._working)

    def rollback(self) -> None:
        self._working = copy.deepcopy(self._store.data)
        self._bind()


class MemoryStore:
    """A unit-of-work factory holding its data in memory."""

    def __init__(self) -> None:
        self.data = _Data()
        self.lock = threading.RLock()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)
