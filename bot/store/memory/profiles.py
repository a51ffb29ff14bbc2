"""In-memory profile repository: people, identities, values, consent, question states."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from datetime import datetime
from typing import Iterator, Sequence

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
from bot.store.memory.data import StoreData


class MemoryProfileRepository:
    """ProfileRepository over a private copy of the data (committed by the unit of work)."""

    def __init__(self, data: StoreData) -> None:
        self._data = data

    def get(self, *, person_id: str) -> Person | None:
        person = self._data.people.get(person_id)
        return copy.deepcopy(person) if person else None

    def get_many(self, *, person_ids: Sequence[str]) -> list[Person]:
        people = self._data.people
        return [copy.deepcopy(people[i]) for i in person_ids if i in people]

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
        person.values = supersede(person.values, dataclasses.replace(value, id=self._next_id()))

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

    def iter_people(self, *, batch: int = 500) -> Iterator[Person]:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        ids = self.list_ids()
        for start in range(0, len(ids), batch):
            yield from self.get_many(person_ids=ids[start : start + batch])

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
