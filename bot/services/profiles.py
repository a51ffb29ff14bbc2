"""Read side of the profile store: export every person, show one person."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

from bot.domain.errors import InvalidReference, PersonNotFound
from bot.domain.model import AttributeValue, ConsentRecord, Identity, Person
from bot.domain.purchases import PurchaseContext
from bot.store.ports import UnitOfWork, UnitOfWorkFactory

EXPORT_SCHEMA_VERSION = 1


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _value_doc(value: AttributeValue) -> dict[str, Any]:
    return {
        "value": value.value,
        "provenance": value.provenance.value,
        "confidence": value.confidence,
        "channel": value.channel,
        "message_ref": value.message_ref,
        "recorded_at": _time(value.created_at),
        "superseded_at": _time(value.superseded_at),
    }


def _consent_doc(record: ConsentRecord) -> dict[str, Any]:
    return {
        "purpose": record.purpose,
        "status": record.status.value,
        "policy_version": record.policy_version,
        "channel": record.channel,
        "message_ref": record.message_ref,
        "recorded_at": _time(record.created_at),
        "wording_hash": record.wording_hash,
    }


def _purchase_doc(context: PurchaseContext) -> dict[str, Any]:
    return {
        "order_id": context.order_id,
        "line": context.line,
        "purpose": context.purpose.value,
        "recipient_relation": context.recipient_relation,
        "occasion": context.occasion,
        "provenance": context.provenance,
        "channel": context.channel,
        "message_ref": context.message_ref,
        "recorded_at": _time(context.created_at),
    }


def _purchases(contexts: list[PurchaseContext]) -> list[dict[str, Any]]:
    """The latest context per order item (records are append-only)."""
    latest: dict[tuple[str, int], PurchaseContext] = {}
    for context in sorted(contexts, key=lambda c: c.created_at):
        latest[(context.order_id, context.line)] = context
    return [_purchase_doc(c) for c in latest.values()]


def _load(uow: UnitOfWork, person: Person) -> dict[str, Any]:
    return person_document(
        person,
        purchases=uow.orders.contexts(person_id=person.id),
        reminders=uow.orders.reminders(person_id=person.id),
    )


def person_document(
    person: Person,
    purchases: list[PurchaseContext] | None = None,
    reminders: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One person as the export's JSON object (docs/profile.schema.json)."""
    current = person.current_values()
    purposes = sorted({c.purpose for c in person.consents})
    return {
        "schema_version": EXPORT_SCHEMA_VERSION,
        "person_id": person.id,
        "created_at": _time(person.created_at),
        "identities": [
            {"channel": i.channel, "external_id": i.external_id} for i in person.identities
        ],
        "attributes": {name: _value_doc(v) for name, v in sorted(current.items())},
        "history": {
            name: [_value_doc(v) for v in person.history(name)]
            for name in sorted({v.attribute for v in person.values})
        },
        "consents": {
            "current": {p: _consent_doc(c) for p in purposes if (c := person.consent(p))},
            "ledger": [_consent_doc(c) for c in person.consents],
        },
        "questions": {
            q.question_id: {
                "status": q.status.value,
                "asked_at": _time(q.asked_at),
                "updated_at": _time(q.updated_at),
                "why_asked": q.why_asked,
            }
            for q in sorted(person.questions.values(), key=lambda q: q.question_id)
        },
        "purchases": _purchases(purchases or []),
        "reminders": reminders or [],
    }


SENSITIVE = {"motivations": frozenset({"stress_relief"})}
"""Health-adjacent values: left out of exports unless included with a recorded reason."""


def _withhold(value: Any, sensitive: frozenset[str]) -> tuple[Any, int]:
    if not isinstance(value, dict) or not isinstance(value.get("selected"), list):
        return value, 0
    kept = [v for v in value["selected"] if v not in sensitive]
    withheld = len(value["selected"]) - len(kept)
    if not withheld:
        return value, 0
    return {**value, "selected": kept, "withheld_sensitive": withheld}, withheld


def without_sensitive(document: dict[str, Any]) -> dict[str, Any]:
    """The document with health-adjacent values replaced by a count of what was withheld."""
    for attribute, sensitive in SENSITIVE.items():
        records = [document["attributes"].get(attribute), *document["history"].get(attribute, [])]
        for record in records:
            if record is not None:
                record["value"], _ = _withhold(record["value"], sensitive)
    return document


EXPORT_BATCH = 500
"""People loaded per unit of work when exporting everyone."""


def _documents(uow: UnitOfWork, person_ids: list[str]) -> list[dict[str, Any]]:
    """The export documents of these people, loaded together (a few queries per batch)."""
    people = uow.profiles.get_many(person_ids=person_ids)
    found = [person.id for person in people]
    purchases = uow.orders.contexts_for(person_ids=found)
    reminders = uow.orders.reminders_for(person_ids=found)
    return [
        person_document(p, purchases=purchases.get(p.id), reminders=reminders.get(p.id))
        for p in people
    ]


def export_people(
    uow_factory: UnitOfWorkFactory,
    *,
    include_sensitive_reason: str | None = None,
    at: datetime | None = None,
    batch: int = EXPORT_BATCH,
) -> Iterator[dict[str, Any]]:
    """Every person as an export document, oldest first.

    Health-adjacent values (e.g. the motivation `stress_relief`) are withheld unless
    `include_sensitive_reason` is given; that reason is recorded in the audit trail.
    The people there were at the start are loaded `batch` at a time, each batch in its
    own short unit of work (the store is not held while the caller writes documents).
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    with uow_factory() as uow:
        ids = uow.profiles.list_ids()
        if include_sensitive_reason:
            details = {"reason": include_sensitive_reason[:500], "people": len(ids)}
            when = at or datetime.now(timezone.utc)
            uow.audit.add(kind="sensitive_export", person_id="*", details=details, at=when)
            uow.commit()
    for start in range(0, len(ids), batch):
        with uow_factory() as uow:
            documents = _documents(uow, ids[start : start + batch])
        for document in documents:
            yield document if include_sensitive_reason else without_sensitive(document)


def parse_reference(reference: str) -> tuple[str | None, Identity | None]:
    """`<person id>` or `<channel>:<external id>` -> (person id, identity)."""
    reference = reference.strip()
    if not reference:
        raise InvalidReference("empty person reference")
    if ":" in reference:
        channel, external_id = reference.split(":", 1)
        if not channel or not external_id:
            raise InvalidReference(f"not a channel:external_id reference: {reference!r}")
        return None, Identity(channel, external_id)
    return reference, None


def show_person(uow_factory: UnitOfWorkFactory, reference: str) -> dict[str, Any]:
    """The export document of the person named by `reference`."""
    person_id, identity = parse_reference(reference)
    with uow_factory() as uow:
        if identity is not None:
            person = uow.profiles.find(identity=identity)
        else:
            person = uow.profiles.get(person_id=str(person_id))
        if person is None:
            raise PersonNotFound(reference)
        return _load(uow, person)
