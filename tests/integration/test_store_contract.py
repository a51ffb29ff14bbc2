"""One contract, every backend: what services may rely on from the profile store."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.model import (
    AttributeValue,
    ConsentRecord,
    ConsentStatus,
    Identity,
    Provenance,
    QuestionRecord,
    QuestionStatus,
)
from bot.store.ports import UnitOfWorkFactory

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
