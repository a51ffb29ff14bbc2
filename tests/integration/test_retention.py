"""Retention on every store backend (memory, SQLite, PostgreSQL), with a settable clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.adapters.rasa_api import RasaApiError, RasaUnreachable
from bot.domain.model import Identity
from bot.domain.purchases import FlagStatus
from bot.services.retention import RetentionPolicy, RetentionService, events_to_keep
from bot.store.ports import UnitOfWorkFactory
from tests.conftest import Clock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
WEB = Identity("socketio", "a" * 32)
TELEGRAM = Identity("telegram", "4242")
SHOP = Identity("shop", "customer-7")


def _flag(uow: Any, person_id: str, line: int, expires_at: datetime) -> None:
    uow.orders.add_flag(
        person_id=person_id,
        order_id="o-1",
        line=line,
        item_name=f"item {line}",
        department="clothing",
        reason="not your usual",
        at=T0,
        expires_at=expires_at,
    )


def test_list_identities_names_every_identity_of_every_person(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        assert uow.profiles.list_identities() == []
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        uow.profiles.get_or_create(identity=TELEGRAM, at=T0)
        other = uow.profiles.get_or_create(identity=SHOP, at=T0)
        uow.profiles.move_identity(identity=SHOP, to_person_id=person.id)
        uow.profiles.delete(person_id=other.id)
        uow.commit()
    with uow_factory() as uow:
        assert uow.profiles.list_identities() == [SHOP, WEB, TELEGRAM]


def test_expired_flags_codes_and_old_attempts_are_deleted_the_rest_kept(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        _flag(uow, person.id, 1, T0 + timedelta(days=1))
        _flag(uow, person.id, 2, T0 + timedelta(days=30))
        _flag(uow, person.id, 3, T0 + timedelta(days=2))
        [first, *_] = uow.orders.flags(person_id=person.id)
        uow.orders.set_flag_status(flag_id=first.id, status=FlagStatus.DONE)
        uow.links.add_code(
            person_id=person.id,
            code_hash="h1",
            issuer=WEB,
            created_at=T0,
            expires_at=T0 + timedelta(minutes=10),
        )
        uow.links.add_failure(chat_key="chat-t", source_key=None, at=T0)
        uow.links.add_failure(chat_key="chat-t", source_key="s", at=T0 + timedelta(days=3))
        uow.commit()
    later = T0 + timedelta(days=3, hours=1)
    with uow_factory() as uow:
        assert uow.orders.delete_expired_flags(at=later) == 2
        assert uow.links.delete_expired_codes(at=later) == 1
        assert uow.links.delete_attempts_before(before=later - timedelta(days=1)) == 1
        uow.commit()
    with uow_factory() as uow:
        assert [f.line for f in uow.orders.flags(person_id=person.id)] == [2]
        assert uow.links.claim_code(code_hash="h1", at=T0) is None  # gone, even "before"
        since = T0 - timedelta(days=1)
        assert uow.links.failures_since(chat_key="chat-t", since=since) == 1
        assert uow.links.failures_since(source_key="s", since=since) == 1
        assert uow.links.failures_since(since=since) == 1
        # A new flag after deletions gets an id of its own.
        _flag(uow, person.id, 4, T0 + timedelta(days=40))
        ids = [f.id for f in uow.orders.flags(person_id=person.id)]
        assert len(set(ids)) == 2


def test_an_unexpired_code_survives_and_nothing_is_kept_without_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        uow.links.add_code(
            person_id=person.id,
            code_hash="h2",
            issuer=WEB,
            created_at=T0,
            expires_at=T0 + timedelta(hours=1),
        )
        uow.commit()
    with uow_factory() as uow:
        assert uow.links.delete_expired_codes(at=T0 + timedelta(hours=2)) == 1
    with uow_factory() as uow:  # rolled back: still there and still valid
        assert uow.links.delete_expired_codes(at=T0 + timedelta(minutes=30)) == 0
        claimed = uow.links.claim_code(code_hash="h2", at=T0 + timedelta(minutes=30))
        assert claimed is not None
        assert (claimed.person_id, claimed.issuer) == (person.id, WEB)


def test_the_store_sweep_follows_the_clock(uow_factory: UnitOfWorkFactory) -> None:
    clock = Clock(T0)
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        _flag(uow, person.id, 1, T0 + timedelta(days=14))
        uow.links.add_code(
            person_id=person.id,
            code_hash="h3",
            issuer=WEB,
            created_at=T0,
            expires_at=T0 + timedelta(minutes=10),
        )
        uow.links.add_failure(chat_key="chat-w", source_key=None, at=T0)
        uow.commit()
    service = RetentionService(uow_factory, clock)
    swept = service.sweep_store()
    assert (swept.flags, swept.link_codes, swept.link_attempts) == (0, 0, 0)
    clock.now = T0 + timedelta(minutes=11)
    assert service.sweep_store().link_codes == 1
    clock.now = T0 + timedelta(days=1, minutes=1)
    assert service.sweep_store().link_attempts == 1
    clock.now = T0 + timedelta(days=14)
    assert service.sweep_store().flags == 1
    with uow_factory() as uow:  # the person and their profile stay
        assert uow.profiles.find(identity=WEB) is not None


class FakeRasa:
    """Trackers by sender, as Rasa's API would give and take them."""

    def __init__(self, trackers: dict[str, list[dict[str, Any]]]) -> None:
        self.trackers = trackers
        self.refuse: set[str] = set()
        self.replaced: list[str] = []

    def __call__(self) -> FakeRasa:
        return self

    async def __aenter__(self) -> FakeRasa:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def get_tracker(self, sender: str) -> dict[str, Any]:
        return {"events": list(self.trackers.setdefault(sender, []))}

    async def replace_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        if sender in self.refuse:
            raise RasaApiError("replace tracker events", 413)
        self.replaced.append(sender)
        self.trackers[sender] = events


def _events(*days_ago: float) -> list[dict[str, Any]]:
    return [
        {
            "event": "user",
            "text": f"said {d} days ago",
            "timestamp": (T0 - timedelta(days=d)).timestamp(),
        }
        for d in days_ago
    ]


def test_the_transcript_sweep_keeps_only_events_newer_than_the_cutoff(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        uow.profiles.get_or_create(identity=WEB, at=T0)
        person = uow.profiles.get_or_create(identity=TELEGRAM, at=T0)
        uow.profiles.get_or_create(identity=SHOP, at=T0)
        uow.profiles.move_identity(identity=SHOP, to_person_id=person.id)
        uow.commit()
    rasa = FakeRasa({WEB.external_id: _events(120, 91, 89, 1), TELEGRAM.external_id: _events(5)})
    swept = asyncio.run(RetentionService(uow_factory, Clock(T0)).sweep_transcripts(rasa, 90))
    assert (swept.conversations, swept.trimmed, swept.events_deleted, swept.failed) == (2, 1, 2, 0)
    assert [e["text"] for e in rasa.trackers[WEB.external_id]] == [
        "said 89 days ago",
        "said 1 days ago",
    ]
    assert rasa.replaced == [WEB.external_id]  # untouched conversations are not rewritten
    assert SHOP.external_id not in rasa.trackers  # not a chat: never asked about

    rasa.trackers[TELEGRAM.external_id] = _events(100)
    rasa.refuse = {TELEGRAM.external_id}
    swept = asyncio.run(RetentionService(uow_factory, Clock(T0)).sweep_transcripts(rasa, 90))
    assert (swept.trimmed, swept.failed) == (0, 1)


def test_the_transcript_sweep_stops_when_rasa_is_unreachable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        uow.profiles.get_or_create(identity=WEB, at=T0)
        uow.commit()

    class Down(FakeRasa):
        async def get_tracker(self, sender: str) -> dict[str, Any]:
            raise RasaUnreachable("Rasa's API is not reachable")

    with pytest.raises(RasaUnreachable):
        asyncio.run(RetentionService(uow_factory, Clock(T0)).sweep_transcripts(Down({}), 90))


def test_events_without_a_time_count_as_old() -> None:
    events = [
        {"event": "user"},
        {"event": "bot", "timestamp": 10.0},
        {"event": "x", "timestamp": "9"},
    ]
    assert events_to_keep(events, 5.0) == [{"event": "bot", "timestamp": 10.0}]


def test_receipts_and_link_undo_records_expire(uow_factory: UnitOfWorkFactory) -> None:
    clock = Clock(T0)
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=SHOP, at=T0)
        uow.links.add_join(person_id=person.id, identities=[TELEGRAM], at=T0)
        uow.receipts.add(channel="slack", key="k1", at=T0)
        uow.receipts.add(channel="slack", key="k2", at=T0 + timedelta(days=2))
        uow.commit()
    service = RetentionService(uow_factory, clock, RetentionPolicy(receipt_days=3))
    clock.now = T0 + timedelta(days=3, minutes=1)
    swept = service.sweep_store()
    assert (swept.receipts, swept.link_joins) == (1, 0)
    clock.now = T0 + timedelta(days=7, minutes=1)
    swept = service.sweep_store()
    assert (swept.receipts, swept.link_joins) == (1, 1)


def test_anonymous_people_who_never_consented_are_deleted_after_the_set_time(
    uow_factory: UnitOfWorkFactory,
) -> None:
    from bot.domain.model import PROFILING, ConsentRecord, ConsentStatus

    clock = Clock(T0)
    said_no = Identity("socketio", "b" * 32)
    said_yes = Identity("socketio", "c" * 32)
    with uow_factory() as uow:
        uow.profiles.get_or_create(identity=WEB, at=T0)  # greeted, nothing else
        uow.profiles.get_or_create(identity=SHOP, at=T0)  # a shop customer: kept
        for identity, status in (
            (said_no, ConsentStatus.DENIED),
            (said_yes, ConsentStatus.GRANTED),
        ):
            person = uow.profiles.get_or_create(identity=identity, at=T0)
            record = ConsentRecord(
                PROFILING, status, "v1", "socketio", None, T0 + timedelta(days=5)
            )
            uow.profiles.add_consent(person_id=person.id, record=record)
        uow.commit()
    service = RetentionService(uow_factory, clock, RetentionPolicy(anonymous_days=30))
    clock.now = T0 + timedelta(days=30, minutes=1)
    swept = service.sweep_store()
    assert swept.anonymous_people == 1 and swept.anonymous == (WEB,)
    clock.now = T0 + timedelta(days=35, minutes=1)  # the "no" is 30 days old now
    swept = service.sweep_store()
    assert swept.anonymous == (said_no,)
    with uow_factory() as uow:
        kept = uow.profiles.list_identities()
    assert kept == [SHOP, said_yes]
