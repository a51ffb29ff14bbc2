"""'Forget me' on every store backend: everything goes, a tombstone stops re-creation by import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from bot.dialogue import ConversationService
from bot.dialogue.rights import FORGET
from bot.dialogue.turn import Incoming, SessionState
from bot.domain.interpret import Mention
from bot.domain.model import Identity
from bot.domain.patterns import PatternRules
from bot.domain.purchases import Order, OrderItem
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.erasure import ErasureService, tombstone_hash
from bot.services.linking import LinkingService
from bot.services.orders import OrderService
from bot.services.profiles import export_people
from bot.store.ports import UnitOfWorkFactory
from tests.builders import conversation
from tests.conftest import Clock

WEB = Identity("socketio", "b" * 32)
SHOP = Identity("shop", "c-42")
SALT = "test-salt"


@pytest.fixture
def erasure(uow_factory: UnitOfWorkFactory, clock: Clock) -> ErasureService:
    return ErasureService(uow_factory, SALT, clock)


@pytest.fixture
def service(
    uow_factory: UnitOfWorkFactory,
    bank: QuestionBank,
    vocabulary: Vocabulary,
    clock: Clock,
    erasure: ErasureService,
) -> ConversationService:
    return conversation(uow_factory, bank, vocabulary, clock, erasure=erasure, key=SALT)


def _order(order_id: str) -> Order:
    item = OrderItem(1, "s-1", "Scarf", "apparel/accessories")
    return Order(order_id, SHOP.external_id, datetime(2026, 11, 1, tzinfo=timezone.utc), (item,))


def test_forget_me_asks_first_then_erases_every_linked_account(
    uow_factory: UnitOfWorkFactory,
    service: ConversationService,
    erasure: ErasureService,
    bank: QuestionBank,
    clock: Clock,
    find_mentions: Callable[[str], list[Mention]],
) -> None:
    orders = OrderService(uow_factory, PatternRules(), clock, erasure)
    assert orders.ingest(_order("o-1"), source="import").created
    LinkingService(uow_factory, bank, clock, key=SALT).attach_verified(WEB, SHOP)
    state = SessionState()
    for intent, text in [("greet", "hi"), ("affirm", "yes"), ("inform", "email")]:
        use = service.welcome if intent == "greet" else service.reply
        state = use(Incoming(WEB, intent, text, find_mentions(text), "m"), state).state

    asked = service.forget(Incoming(WEB, "forget_me", "forget me", [], "m9"), state)
    assert asked.state.pending == FORGET
    assert [b.title for b in asked.messages[0].buttons] == ["Yes, delete everything", "No, keep it"]
    assert len(list(export_people(uow_factory))) == 1  # nothing erased before the yes

    done = service.reply(Incoming(WEB, "affirm", "Yes, delete everything", [], "m10"), asked.state)
    assert done.messages[0].text.startswith("Done: everything I knew about you is deleted (2 ")
    assert done.state == SessionState(greeted=True)
    assert list(export_people(uow_factory)) == []
    with uow_factory() as uow:
        assert uow.tombstones.exists(identity_hash=tombstone_hash(SALT, SHOP))
        assert uow.tombstones.exists(identity_hash=tombstone_hash(SALT, WEB))
        assert uow.orders.exists(order_id="o-1") is False

    again = orders.ingest(_order("o-2"), source="import")
    assert again.created is False and again.erased is True
    assert list(export_people(uow_factory)) == []


def test_anything_but_a_clear_yes_cancels(
    uow_factory: UnitOfWorkFactory,
    service: ConversationService,
) -> None:
    state = service.welcome(Incoming(WEB, "greet", "hi", [], "m1"), SessionState()).state
    asked = service.forget(Incoming(WEB, "forget_me", "delete my data", [], "m2"), state)
    for intent, text in [("affirm", "👍"), ("deny", "No, keep it"), ("inform", "hmm")]:
        kept = service.reply(Incoming(WEB, intent, text, [], "m3"), asked.state)
        assert kept.messages[0].text == "Okay, nothing was deleted."
        assert kept.state.pending is None
    assert len(list(export_people(uow_factory))) == 1


def test_sensitive_values_are_withheld_unless_a_reason_is_recorded(
    uow_factory: UnitOfWorkFactory, clock: Clock
) -> None:
    from bot.domain.model import AttributeValue, Provenance

    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=clock())
        value = {"selected": ["stress_relief", "lifestyle"]}
        uow.profiles.add_value(
            person_id=person.id,
            value=AttributeValue(
                "motivations", value, Provenance.STATED, 1.0, "rest", "m", clock()
            ),
        )
        uow.commit()
    [plain] = list(export_people(uow_factory))
    assert plain["attributes"]["motivations"]["value"] == {
        "selected": ["lifestyle"],
        "withheld_sensitive": 1,
    }
    assert plain["history"]["motivations"][0]["value"]["selected"] == ["lifestyle"]
    [full] = list(export_people(uow_factory, include_sensitive_reason="access request #12"))
    assert full["attributes"]["motivations"]["value"] == value
    with uow_factory() as uow:
        [audit] = uow.audit.events(person_id="*")
    assert audit["kind"] == "sensitive_export"
    assert audit["details"] == {"reason": "access request #12", "people": 1}
