"""Asking about a purchase that doesn't fit: gift, self, skip, follow-ups, reminders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.dialogue import ConversationService
from bot.dialogue.turn import Incoming, SessionState
from bot.domain.interpret import Mention
from bot.domain.model import Identity
from bot.domain.patterns import PatternRules
from bot.domain.purchases import FlagStatus, Order, OrderItem, Purpose
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.orders import OrderService
from bot.store.memory import MemoryStore
from tests.builders import conversation
from tests.conftest import Clock

KEY = "pseudonym-key-for-tests-0123456789"

SHOPPER = Identity("shop", "c-1001")
RULES = PatternRules(annual_occasions=("birthday", "anniversary"))


def _order(order_id: str, days_ago: int, *items: tuple[str, str]) -> Order:
    at = datetime(2026, 11, 1, tzinfo=timezone.utc) - timedelta(days=days_ago)
    lines = tuple(
        OrderItem(n, f"sku-{order_id}-{n}", name, category, 1, Decimal("10"))
        for n, (name, category) in enumerate(items, start=1)
    )
    return Order(order_id, SHOPPER.external_id, at, lines)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def service(
    store: MemoryStore, bank: QuestionBank, vocabulary: Vocabulary, clock: Clock
) -> ConversationService:
    orders = OrderService(store, RULES, clock)
    for n in range(3):
        orders.ingest(
            _order(
                f"o{n}",
                60 - n,
                ("Oxford Shirt", "apparel/menswear/shirts"),
                ("Chinos", "apparel/menswear/trousers"),
            ),
            source="import",
        )
    orders.ingest(_order("o9", 1, ("Wrap Dress", "apparel/womenswear/dresses")), source="import")
    return conversation(store, bank, vocabulary, clock, rules=RULES)


class Shopper:
    def __init__(self, service: ConversationService, find: Callable[[str], list[Mention]]) -> None:
        self.service, self.find, self.state, self.n = service, find, SessionState(), 0

    def say(self, intent: str, text: str) -> list[str]:
        self.n += 1
        incoming = Incoming(SHOPPER, intent, text, self.find(text), f"m{self.n}")
        use_case = self.service.welcome if intent == "greet" else self.service.reply
        turn = use_case(incoming, self.state)
        self.state = turn.state
        return [m.text for m in turn.messages]


@pytest.fixture
def shopper(service: ConversationService, find_mentions: Callable[[str], list[Mention]]) -> Shopper:
    return Shopper(service, find_mentions)


def contexts(store: MemoryStore) -> list[tuple[Purpose, str | None, str | None]]:
    with store() as uow:
        person = uow.profiles.find(identity=SHOPPER)
        assert person is not None
        found = uow.orders.contexts(person_id=person.id)
    return [(c.purpose, c.recipient_relation, c.occasion) for c in found]


def interests(store: MemoryStore) -> object:
    with store() as uow:
        person = uow.profiles.find(identity=SHOPPER)
    assert person is not None
    value = person.current_values().get("interests")
    return value.value if value else None


def consented(shopper: Shopper) -> list[str]:
    shopper.say("greet", "hi")
    return shopper.say("affirm", "Yes, go ahead")


def test_the_dress_is_asked_about_first_neutrally_with_an_easy_out(shopper: Shopper) -> None:
    said = consented(shopper)
    assert said[-1] == (
        "Just curious, no need to answer: the Wrap Dress you ordered, "
        "is it a gift or something for you?"
    )
    assert not any(word in " ".join(said).lower() for word in ("women", "her ", "his ", "gender"))


def test_one_message_can_say_relation_and_occasion_then_reminder(
    shopper: Shopper, store: MemoryStore
) -> None:
    consented(shopper)
    said = shopper.say("inform", "it's for my sister's birthday")
    assert said == ["Want a reminder a couple of weeks before the birthday next year?"]
    said = shopper.say("affirm", "yes please")
    assert said[0] == "Done: I'll remind you ahead of it next year."
    assert said[1].startswith("How would you like to hear from us?")
    assert contexts(store)[-1] == (Purpose.GIFT, "sister", "birthday")
    assert interests(store) is None
    with store() as uow:
        person = uow.profiles.find(identity=SHOPPER)
        assert person is not None
        assert uow.orders.reminders(person_id=person.id)[0]["occasion"] == "birthday"
        consent = person.consent("reminders")
        assert consent is not None and consent.status.value == "granted"
        assert [f.status for f in uow.orders.flags(person_id=person.id)] == [FlagStatus.DONE]


def test_gift_then_follow_ups_one_at_a_time(shopper: Shopper, store: MemoryStore) -> None:
    consented(shopper)
    assert shopper.say("inform", "A gift")[0].startswith("Lovely! Who is it for?")
    assert shopper.say("inform", "Anna")[0].startswith("No names needed")
    assert shopper.say("inform", "a friend") == ["And what's the occasion?"]
    said = shopper.say("inform", "just because")
    assert said[0] == "Thank you, that's lovely to know."
    assert contexts(store)[-1] == (Purpose.GIFT, "friend", "just_because")


def test_for_me_adds_the_department_to_stated_interests(
    shopper: Shopper, store: MemoryStore
) -> None:
    consented(shopper)
    said = shopper.say("inform", "For me")
    assert said[0] == "Thanks, noted: it's for you. I'll keep that in mind."
    assert contexts(store) == [(Purpose.SELF, None, None)]
    assert interests(store) == {"selected": ["apparel/womenswear"]}


def test_skip_ends_it_for_good(shopper: Shopper, store: MemoryStore, clock: Clock) -> None:
    consented(shopper)
    said = shopper.say("skip", "skip")
    assert said[0] == "No problem, I won't ask about it again."
    assert contexts(store) == [(Purpose.SKIPPED, None, None)]
    shopper.state = SessionState()
    clock.advance(days=1)
    said = shopper.say("greet", "hi again")
    assert not any("Wrap Dress" in line for line in said)


def test_at_most_one_purchase_per_session_and_it_counts_in_the_budget(
    shopper: Shopper,
) -> None:
    consented(shopper)
    shopper.say("skip", "skip")
    assert shopper.state.asked[0].startswith("purchase:")
    assert len(shopper.state.asked) == 2


def test_expired_flags_are_never_asked(shopper: Shopper, clock: Clock) -> None:
    clock.advance(days=31)
    said = consented(shopper)
    assert said[-1].startswith("How would you like to hear from us?")
