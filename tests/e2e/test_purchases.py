"""Orders in; a signed-in shopper is asked about the dress; the export shows the answer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.channels.customer import vouch
from tests.harness import ROOT, Stack, start_stack

SECRET = "shop-secret-for-tests-0123456789abcdef"
SCHEMA = json.loads((ROOT / "docs" / "profile.schema.json").read_text())
ASK = (
    "Just curious, no need to answer: the Wrap Dress you ordered, "
    "is it a gift or something for you?"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("purchases"), extra_env={"RAPPORT_SHOP_SECRET": SECRET}
    )
    yield running
    running.stop()


def orders_for(customer: str) -> list[dict[str, Any]]:
    menswear = [
        {"sku": "M-1", "name": "Oxford Shirt", "category": "apparel/menswear/shirts"},
        {"sku": "M-2", "name": "Chinos", "category": "apparel/menswear/trousers"},
    ]
    history = [
        {
            "order_id": f"{customer}-{n}",
            "customer_id": customer,
            "ordered_at": f"2026-0{n + 1}-10T10:00:00Z",
            "items": menswear,
        }
        for n in range(3)
    ]
    dress = {
        "order_id": f"{customer}-dress",
        "customer_id": customer,
        "ordered_at": "2026-11-20T10:00:00+01:00",
        "items": [
            {
                "sku": "W-9",
                "name": "Wrap Dress",
                "category": "apparel/womenswear/dresses",
                "price": 89.0,
                "quantity": 1,
            }
        ],
    }
    return [*history, dress]


def import_orders(stack: Stack, customer: str, tmp_path: Path) -> str:
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(json.dumps(o) for o in orders_for(customer)) + "\n")
    return stack.rapport("orders", "import", str(path))


def say(stack: Stack, sender: str, text: str, customer: dict[str, Any] | None = None) -> list[str]:
    body: dict[str, Any] = {"sender": sender, "message": text}
    if customer is not None:
        body["metadata"] = {"customer": customer}
    status, replies = stack.rest(body)
    assert status == 200, replies
    return [r.get("text", "") for r in replies]


def person_with(stack: Stack, channel: str, external_id: str) -> dict[str, Any]:
    wanted = {"channel": channel, "external_id": external_id}
    people = [p for p in stack.export() if wanted in p["identities"]]
    assert len(people) == 1, people
    jsonschema.validate(people[0], SCHEMA)
    return people[0]


def test_signed_in_shopper_is_asked_about_the_dress_and_the_answer_is_kept(
    stack: Stack, tmp_path: Path
) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    import_orders(stack, customer, tmp_path)
    vouched = vouch(customer, SECRET)
    chat = f"web-{customer}"
    hello = say(stack, chat, "hi", vouched)
    assert "may I ask you a couple of quick questions" in hello[-1]
    asked = say(stack, chat, "Yes, go ahead", vouched)
    assert asked == ["Thank you! Here's the first one.", ASK]
    reminder = say(stack, chat, "it's for my sister's birthday", vouched)
    assert reminder == ["Want a reminder a couple of weeks before the birthday next year?"]
    after = say(stack, chat, "no thanks", vouched)
    assert after[0] == "No problem, no reminder."
    assert after[1].startswith("How would you like to hear from us?")

    person = person_with(stack, "shop", customer)
    assert {"channel": "rest", "external_id": chat} in person["identities"]
    [purchase] = person["purchases"]
    assert purchase["order_id"] == f"{customer}-dress" and purchase["line"] == 1
    assert purchase["purpose"] == "gift"
    assert purchase["recipient_relation"] == "sister"
    assert purchase["occasion"] == "birthday"
    assert purchase["provenance"] == "stated" and purchase["channel"] == "rest"
    assert "interests" not in person["attributes"]
    assert person["reminders"] == []


def test_a_forged_signature_is_ignored_and_never_trusted(stack: Stack, tmp_path: Path) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    import_orders(stack, customer, tmp_path)
    chat = f"web-{customer}"
    forged = vouch(customer, "not-the-secret-but-just-as-long-as-it")
    say(stack, chat, "hi", forged)
    hello = say(stack, chat, "Yes, go ahead", forged)
    assert ASK not in hello
    shop_person = person_with(stack, "shop", customer)
    assert shop_person["identities"] == [{"channel": "shop", "external_id": customer}]
    assert customer not in stack.logs()
