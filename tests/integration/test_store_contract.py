"""One contract, every backend: what services may rely on from the profile store."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from sqlalchemy import event

from bot.domain.model import (
    AttributeValue,
    ConsentRecord,
    ConsentStatus,
    Identity,
    Provenance,
    QuestionRecord,
    QuestionStatus,
)
from bot.domain.purchases import Order, OrderItem, PurchaseContext, Purpose
from bot.services.profiles import export_people, show_person, without_sensitive
from bot.services.tokens import create_token, token_hash, token_scope
from bot.store.ports import UnitOfWork, UnitOfWorkFactory
from bot.store.sql import SqlUnitOfWorkFactory

KEY = "k" * 48
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
WEB = Identity("socketio", "a" * 32)


def _value(attribute: str, value: object, at: datetime) -> AttributeValue:
    return AttributeValue(attribute, value, Provenance.STATED, 1.0, "socketio", "msg-1", at)


def test_a_new_identity_creates_one_person_and_finds_it_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        created = uow.profiles.get_or_create(identity=WEB, at=T0)
        uow.commit()
    with uow_factory() as uow:
        again = uow.profiles.get_or_create(identity=WEB, at=T0 + timedelta(hours=1))
        found = uow.profiles.find(identity=WEB)
        assert uow.profiles.list_ids() == [created.id]
    assert again.id == created.id and found is not None and found.identities == [WEB]
    assert found.created_at == T0 and found.created_at.tzinfo is not None


def test_nothing_is_kept_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.profiles.get_or_create(identity=WEB, at=T0)
    with uow_factory() as uow:
        assert uow.profiles.find(identity=WEB) is None
        assert uow.profiles.list_ids() == []


def test_values_are_append_only_and_the_newest_is_current(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        uow.profiles.add_value(person_id=person.id, value=_value("contact_frequency", "daily", T0))
        later = T0 + timedelta(minutes=1)
        uow.profiles.add_value(
            person_id=person.id, value=_value("contact_frequency", "weekly", later)
        )
        uow.profiles.add_value(
            person_id=person.id,
            value=_value("contact_channels", {"selected": ["sms"], "excluded": ["email"]}, later),
        )
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.profiles.get(person_id=person.id)
    assert loaded is not None
    history = loaded.history("contact_frequency")
    assert [v.value for v in history] == ["daily", "weekly"]
    assert history[0].superseded_at == later and history[1].superseded_at is None
    current = loaded.current_values()
    assert current["contact_frequency"].value == "weekly"
    assert current["contact_channels"].value == {"selected": ["sms"], "excluded": ["email"]}
    assert current["contact_channels"].provenance is Provenance.STATED


def test_unicode_and_markup_survive_unchanged(uow_factory: UnitOfWorkFactory) -> None:
    words = "<script>alert(1)</script> 🧘‍♀️ Ünïcødé \u202eevil"
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=Identity("rest", "ünï 😀"), at=T0)
        value = _value("motivations", {"selected": ["other"], "other_text": words}, T0)
        uow.profiles.add_value(person_id=person.id, value=value)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.profiles.find(identity=Identity("rest", "ünï 😀"))
    assert loaded is not None
    assert loaded.current_values()["motivations"].value["other_text"] == words


def test_the_consent_ledger_is_never_rewritten(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        for minutes, status in enumerate(
            [ConsentStatus.GRANTED, ConsentStatus.WITHDRAWN, ConsentStatus.GRANTED]
        ):
            record = ConsentRecord(
                "profiling",
                status,
                "v1",
                "socketio",
                f"m{minutes}",
                T0 + timedelta(minutes=minutes),
            )
            uow.profiles.add_consent(person_id=person.id, record=record)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.profiles.get(person_id=person.id)
    assert loaded is not None
    assert [c.status for c in loaded.consents] == [
        ConsentStatus.GRANTED,
        ConsentStatus.WITHDRAWN,
        ConsentStatus.GRANTED,
    ]
    current = loaded.consent("profiling")
    assert current is not None and current.message_ref == "m2"
    assert loaded.consent("email_marketing") is None


def test_question_state_is_replaced_in_place(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        asked = QuestionRecord("device", QuestionStatus.ASKED, T0, T0)
        uow.profiles.save_question(person_id=person.id, record=asked)
        declined = QuestionRecord(
            "device", QuestionStatus.DECLINED, T0, T0 + timedelta(seconds=5), why_asked=1
        )
        uow.profiles.save_question(person_id=person.id, record=declined)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.profiles.get(person_id=person.id)
    assert loaded is not None
    assert loaded.questions == {"device": declined}


def test_concurrent_first_messages_make_one_person(uow_factory: UnitOfWorkFactory) -> None:
    identity = Identity("rest", "racer")
    ids: list[str] = []
    errors: list[BaseException] = []

    def first_message() -> None:
        try:
            with uow_factory() as uow:
                ids.append(uow.profiles.get_or_create(identity=identity, at=T0).id)
                uow.commit()
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=first_message) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(set(ids)) == 1
    with uow_factory() as uow:
        assert len(uow.profiles.list_ids()) == 1


def test_naive_datetimes_are_refused(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow, pytest.raises(Exception, match="naive"):
        uow.profiles.get_or_create(identity=WEB, at=datetime(2026, 1, 1))


def test_a_delivery_is_first_only_once_and_survives_a_new_unit_of_work(
    uow_factory: UnitOfWorkFactory,
) -> None:
    from bot.services.receipts import first_delivery

    assert (
        first_delivery(uow_factory, channel="telegram", key="update:42", at=T0, secret=KEY) is True
    )
    assert (
        first_delivery(uow_factory, channel="telegram", key="update:42", at=T0, secret=KEY) is False
    )
    assert first_delivery(uow_factory, channel="slack", key="update:42", at=T0, secret=KEY) is True
    with uow_factory() as uow:
        assert uow.receipts.add(channel="telegram", key="update:43", at=T0) is True
    # not committed: still new
    assert (
        first_delivery(uow_factory, channel="telegram", key="update:43", at=T0, secret=KEY) is True
    )


def test_receipts_are_kept_as_pseudonyms_and_swept_by_age(uow_factory: UnitOfWorkFactory) -> None:
    from bot.services.receipts import first_delivery

    key = "msg:D024BE7LH:1712345678.000100"
    assert first_delivery(uow_factory, channel="slack", key=key, at=T0, secret=KEY)
    with uow_factory() as uow:
        # The raw key is not what was stored: adding it again is "new".
        assert uow.receipts.add(channel="slack", key=key, at=T0) is True
        assert uow.receipts.delete_before(before=T0 + timedelta(seconds=1)) == 2
        uow.commit()
    assert first_delivery(uow_factory, channel="slack", key=key, at=T0, secret=KEY)


def test_an_order_id_is_stored_once(uow_factory: UnitOfWorkFactory) -> None:
    from bot.domain.purchases import Order, OrderItem

    order = Order("o-1", "c-1", T0, (OrderItem(1, "s", "Scarf", "apparel/accessories"),))
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=Identity("shop", "c-1"), at=T0)
        assert uow.orders.add(order=order, person_id=person.id, at=T0, source="api") is True
        assert uow.orders.add(order=order, person_id=person.id, at=T0, source="api") is False
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.exists(order_id="o-1")
        items = uow.orders.past_items(person_id=person.id, before=T0 + timedelta(1), limit=5)
    assert [i.name for i in items] == ["Scarf"]


def test_consent_wordings_are_kept_once_and_hashes_round_trip(
    uow_factory: UnitOfWorkFactory,
) -> None:
    digest = "ab" * 32
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        uow.rights.add_wording(wording_hash=digest, text="May I ask?", policy_version="v1", at=T0)
        uow.rights.add_wording(wording_hash=digest, text="changed?", policy_version="v2", at=T0)
        record = ConsentRecord(
            "sms_marketing", ConsentStatus.GRANTED, "v1", "telegram", "m1", T0, wording_hash=digest
        )
        uow.profiles.add_consent(person_id=person.id, record=record)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.profiles.get(person_id=person.id)
        assert uow.rights.wording(wording_hash=digest) == "May I ask?"
        assert uow.rights.wording(wording_hash="cd" * 32) is None
    assert loaded is not None and loaded.consents[0].wording_hash == digest


def test_an_export_link_is_used_once_and_only_before_it_expires(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        for token in ("live", "late"):
            uow.rights.add_export(
                token_hash=token,
                person_id=person.id,
                created_at=T0,
                expires_at=T0 + timedelta(minutes=15),
            )
        uow.commit()
    with uow_factory() as uow:
        assert uow.rights.export_is_live(token_hash="live", at=T0)
        assert uow.rights.claim_export(token_hash="live", at=T0) == person.id
        assert uow.rights.claim_export(token_hash="late", at=T0 + timedelta(minutes=16)) is None
        assert uow.rights.claim_export(token_hash="unknown", at=T0) is None
        uow.commit()
    with uow_factory() as uow:
        assert uow.rights.claim_export(token_hash="live", at=T0) is None
        assert not uow.rights.export_is_live(token_hash="live", at=T0)
        assert uow.rights.export_is_live(token_hash="late", at=T0)
        uow.profiles.delete(person_id=person.id)
        uow.commit()
    with uow_factory() as uow:
        assert uow.rights.claim_export(token_hash="late", at=T0) is None


def test_an_older_value_moved_in_is_put_back_in_its_place_in_the_history(
    uow_factory: UnitOfWorkFactory,
) -> None:
    minute = timedelta(minutes=1)
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        other = uow.profiles.get_or_create(identity=Identity("telegram", "42"), at=T0)
        uow.profiles.add_value(
            person_id=person.id, value=_value("device", "phone", T0 + 2 * minute)
        )
        uow.profiles.add_value(person_id=other.id, value=_value("device", "laptop", T0 + minute))
        uow.profiles.add_value(
            person_id=other.id, value=_value("device", "tablet", T0 + 3 * minute)
        )
        uow.profiles.move_records(from_person_id=other.id, to_person_id=person.id)
        uow.profiles.recompute_supersession(person_id=person.id)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.profiles.get(person_id=person.id)
    assert loaded is not None
    assert [(v.value, v.superseded_at) for v in loaded.history("device")] == [
        ("laptop", T0 + 2 * minute),
        ("phone", T0 + 3 * minute),
        ("tablet", None),
    ]
    assert loaded.current_values()["device"].value == "tablet"


def test_api_tokens_are_found_by_hash_with_their_scope(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.tokens.add(token_hash="a" * 64, scope="orders", at=T0)
        uow.tokens.add(token_hash="b" * 64, scope="reports", at=T0)
        assert uow.tokens.scope_of(token_hash="a" * 64) == "orders"
        uow.commit()
    with uow_factory() as uow:
        uow.tokens.add(token_hash="c" * 64, scope="orders", at=T0)  # never committed
    with uow_factory() as uow:
        assert uow.tokens.scope_of(token_hash="a" * 64) == "orders"
        assert uow.tokens.scope_of(token_hash="b" * 64) == "reports"
        assert uow.tokens.scope_of(token_hash="c" * 64) is None
        assert uow.tokens.scope_of(token_hash="d" * 64) is None


def test_a_created_token_is_kept_only_as_its_hash(uow_factory: UnitOfWorkFactory) -> None:
    token = create_token(uow_factory, "orders", T0)
    assert token_scope(uow_factory, token) == "orders"
    assert token_scope(uow_factory, token + "x") is None
    with uow_factory() as uow:
        assert uow.tokens.scope_of(token_hash=token) is None
        assert uow.tokens.scope_of(token_hash=token_hash(token)) == "orders"


def test_the_audit_trail_is_kept_per_key_oldest_first_and_can_be_rekeyed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    later = T0 + timedelta(minutes=1)
    keys = {"identities": 2, "identity_keys": ["k1", "k2"]}
    with uow_factory() as uow:
        uow.audit.add(kind="unlink", person_id="p1", details=keys, at=later)
        uow.audit.add(kind="link", person_id="p1", details={"identities": 1}, at=T0)
        uow.audit.add(kind="erasure", person_id="p2", details={}, at=T0)
        uow.commit()
    with uow_factory() as uow:
        uow.audit.add(kind="never", person_id="p1", details={}, at=T0)  # never committed
    with uow_factory() as uow:
        assert uow.audit.events(person_id="p1") == [
            {"at": T0, "kind": "link", "details": {"identities": 1}},
            {"at": later, "kind": "unlink", "details": keys},
        ]
        uow.audit.rekey(person_id="p1", to="anon")
        uow.commit()
    with uow_factory() as uow:
        assert uow.audit.events(person_id="p1") == []
        assert [e["kind"] for e in uow.audit.events(person_id="anon")] == ["link", "unlink"]
        assert [e["kind"] for e in uow.audit.events(person_id="p2")] == ["erasure"]
        assert uow.audit.events(person_id="nobody") == []


PEOPLE = 5


def _populate(uow: UnitOfWork, count: int = PEOPLE, first: int = 0) -> list[str]:
    """`count` people, each with its own identity, values, consents, question, purchases.

    Created out of order (the newest first), so "oldest first" is not insertion order.
    """
    made: dict[int, str] = {}
    for n in reversed(range(first, first + count)):
        at = T0 + timedelta(minutes=n)
        person = uow.profiles.get_or_create(identity=Identity("rest", f"p{n}"), at=at)
        made[n] = person.id
        uow.profiles.add_value(person_id=person.id, value=_value("device", f"old {n}", at))
        later = _value("device", f"new {n}", at + timedelta(seconds=1))
        uow.profiles.add_value(person_id=person.id, value=later)
        if n % 2 == 0:
            motives = {"selected": ["stress_relief", "gifts"]}
            uow.profiles.add_value(person_id=person.id, value=_value("motivations", motives, at))
        record = ConsentRecord("profiling", ConsentStatus.GRANTED, "v1", "rest", f"m{n}", at)
        uow.profiles.add_consent(person_id=person.id, record=record)
        question = QuestionRecord("device", QuestionStatus.ANSWERED, at, at, why_asked=n)
        uow.profiles.save_question(person_id=person.id, record=question)
        if n % 2 == 1:
            order = Order(f"o-{n}", f"c-{n}", at, (OrderItem(1, "s", "Scarf", "apparel"),))
            uow.orders.add(order=order, person_id=person.id, at=at, source="api")
            context = PurchaseContext(
                f"o-{n}", 1, Purpose.GIFT, "sister", f"birthday {n}", "stated", "rest", None, at
            )
            uow.orders.add_context(person_id=person.id, context=context)
            uow.orders.add_reminder(
                person_id=person.id,
                order_id=f"o-{n}",
                line=1,
                occasion=f"birthday {n}",
                relation="sister",
                remind_on=at + timedelta(days=300),
                at=at,
            )
    return [made[n] for n in sorted(made)]


def test_people_are_loaded_together_fully_and_oldest_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        ids = _populate(uow)
        uow.commit()
    with uow_factory() as uow:
        assert uow.profiles.list_ids() == ids
        people = list(uow.profiles.iter_people(batch=2))
        assert people == list(uow.profiles.iter_people())
        assert people == [uow.profiles.get(person_id=i) for i in ids]
        picked = uow.profiles.get_many(person_ids=[ids[3], "missing", ids[0]])
        assert picked == [people[3], people[0]]
        backwards = uow.profiles.get_many(person_ids=ids[::-1])
        assert backwards == people[::-1]  # the order given, not the order stored
        assert uow.profiles.get_many(person_ids=[]) == []
    assert [p.id for p in people] == ids
    assert [p.identities for p in people] == [[Identity("rest", f"p{n}")] for n in range(PEOPLE)]
    assert [[v.value for v in p.history("device")] for p in people] == [
        [f"old {n}", f"new {n}"] for n in range(PEOPLE)
    ]
    assert [p.current_values()["device"].value for p in people] == [
        f"new {n}" for n in range(PEOPLE)
    ]
    assert [sorted(p.current_values()) for p in people] == [
        ["device", "motivations"] if n % 2 == 0 else ["device"] for n in range(PEOPLE)
    ]
    assert [[c.message_ref for c in p.consents] for p in people] == [
        [f"m{n}"] for n in range(PEOPLE)
    ]
    assert [p.questions["device"].why_asked for p in people] == list(range(PEOPLE))


def _counting(uow_factory: UnitOfWorkFactory, opened: list[UnitOfWork]) -> UnitOfWorkFactory:
    def factory() -> UnitOfWork:
        uow = uow_factory()
        opened.append(uow)
        return uow

    return factory


@pytest.mark.parametrize("reason", [None, "access request #12"])
def test_the_export_loads_people_a_batch_per_unit_of_work(
    uow_factory: UnitOfWorkFactory, reason: str | None
) -> None:
    with uow_factory() as uow:
        ids = _populate(uow)
        uow.commit()
    opened: list[UnitOfWork] = []
    documents = list(
        export_people(
            _counting(uow_factory, opened), include_sensitive_reason=reason, at=T0, batch=2
        )
    )
    assert len(opened) == 1 + 3  # the list of ids, then ceil(5 / 2) batches
    assert [d["person_id"] for d in documents] == ids
    one_by_one = [show_person(uow_factory, i) for i in ids]
    assert documents == (one_by_one if reason else [without_sensitive(d) for d in one_by_one])
    assert [[p["occasion"] for p in d["purchases"]] for d in documents] == [
        [f"birthday {n}"] if n % 2 == 1 else [] for n in range(PEOPLE)
    ]
    assert [[r["remind_on"] for r in d["reminders"]] for d in documents] == [
        [(T0 + timedelta(minutes=n, days=300)).isoformat()] if n % 2 == 1 else []
        for n in range(PEOPLE)
    ]
    motives = [d["attributes"].get("motivations", {}).get("value") for d in documents]
    withheld = {"selected": ["gifts"], "withheld_sensitive": 1}
    kept = {"selected": ["stress_relief", "gifts"]}
    assert motives == [(kept if reason else withheld) if n % 2 == 0 else None for n in range(5)]


def test_the_export_skips_people_erased_while_it_runs(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        ids = _populate(uow)
        uow.commit()
    documents = export_people(uow_factory, batch=2)
    first = next(documents)
    with uow_factory() as uow:
        uow.profiles.delete(person_id=ids[3])
        uow.commit()
    rest = [d["person_id"] for d in documents]
    assert [first["person_id"], *rest] == [ids[0], ids[1], ids[2], ids[4]]


@pytest.fixture
def statements(sql_uow_factory: SqlUnitOfWorkFactory) -> Iterator[list[str]]:
    """Every SQL statement the store's engine runs, as run."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(sql_uow_factory.engine, "before_cursor_execute", record)
    yield seen
    event.remove(sql_uow_factory.engine, "before_cursor_execute", record)


def test_exporting_more_people_runs_no_more_statements(
    sql_uow_factory: SqlUnitOfWorkFactory, statements: list[str]
) -> None:
    with sql_uow_factory() as uow:
        _populate(uow, count=3)
        uow.commit()
    statements.clear()
    assert len(list(export_people(sql_uow_factory))) == 3
    with sql_uow_factory() as uow:
        assert len(list(uow.profiles.iter_people())) == 3
    for_three = len(statements)

    with sql_uow_factory() as uow:
        _populate(uow, count=9, first=3)
        uow.commit()
    statements.clear()
    assert len(list(export_people(sql_uow_factory))) == 12
    with sql_uow_factory() as uow:
        assert len(list(uow.profiles.iter_people())) == 12
    assert len(statements) == for_three


def test_long_id_lists_are_split_into_several_in_lists(
    sql_uow_factory: SqlUnitOfWorkFactory,
    statements: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with sql_uow_factory() as uow:
        ids = _populate(uow)
        for n in range(3):  # greeted, nothing else
            uow.profiles.get_or_create(identity=Identity("socketio", f"{n}" * 32), at=T0)
        uow.commit()
    with sql_uow_factory() as uow:
        whole = list(uow.profiles.iter_people())
        asked = uow.profiles.anonymous_before(before=T0 + timedelta(days=1))
    populated = [p for p in whole if p.id in ids]
    assert len(whole) == 8 and len(asked) == 3 and [p.id for p in populated] == ids
    exported = list(export_people(sql_uow_factory))
    monkeypatch.setattr("bot.store.sql.loading.IN_LIMIT", 2)
    statements.clear()
    with sql_uow_factory() as uow:
        assert list(uow.profiles.iter_people()) == whole
        assert uow.profiles.get_many(person_ids=ids[::-1]) == populated[::-1]
        assert uow.profiles.anonymous_before(before=T0 + timedelta(days=1)) == asked
    assert list(export_people(sql_uow_factory)) == exported
    identity_queries = [s for s in statements if s.startswith("SELECT identities.id")]
    # two ids per IN list: iter 8 people, get_many 5, anonymous 3, export 8
    assert len(identity_queries) == 4 + 3 + 2 + 4
