"""POST /api/v1/orders on the web app, against a fresh migrated SQLite store."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.domain.model import Identity, utcnow
from bot.services.profiles import export_people
from bot.services.tokens import InvalidScope, create_token, token_hash, token_scope
from bot.store.sql import SqlUnitOfWorkFactory
from bot.store.tables import api_tokens, order_items
from bot.web.api import MAX_BODY_BYTES

URL = "/api/v1/orders"
MENSWEAR = "apparel/menswear/shirts"
DRESSES = "apparel/womenswear/dresses"


@pytest.fixture
def headers(store: SqlUnitOfWorkFactory) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(store, 'orders', utcnow())}"}


def item(
    sku: str = "SKU-1", name: str = "Oxford Shirt", category: str = MENSWEAR
) -> dict[str, Any]:
    return {"sku": sku, "name": name, "category": category, "price": "49.00", "quantity": 1}


def order(
    order_id: str = "o-1",
    customer_id: str = "c-1",
    ordered_at: str = "2026-01-10T10:00:00+01:00",
    items: Any = None,
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "ordered_at": ordered_at,
        "items": items if items is not None else [item()],
    }


def export(store: SqlUnitOfWorkFactory) -> list[dict[str, Any]]:
    return list(export_people(store))


def stored(store: SqlUnitOfWorkFactory, order_id: str) -> bool:
    with store() as uow:
        return uow.orders.exists(order_id=order_id)


def flags(store: SqlUnitOfWorkFactory, customer_id: str) -> list[Any]:
    with store() as uow:
        person = uow.profiles.find(identity=Identity("shop", customer_id))
        return [] if person is None else uow.orders.flags(person_id=person.id)


# --- authentication -------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    reply = client.post(URL, json=order())

    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert "error" in reply.json()


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   "])
def test_a_header_without_a_bearer_token_is_401(client: TestClient, authorization: str) -> None:
    reply = client.post(URL, json=order(), headers={"Authorization": authorization})

    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401(client: TestClient, store: SqlUnitOfWorkFactory) -> None:
    reply = client.post(URL, json=order(), headers={"Authorization": "Bearer not-a-real-token"})

    assert reply.status_code == 401
    assert 'error="invalid_token"' in reply.headers["www-authenticate"]
    assert export(store) == []


def test_a_token_of_another_scope_is_403(client: TestClient, store: SqlUnitOfWorkFactory) -> None:
    with store() as uow:
        uow.tokens.add(token_hash=token_hash("profiles-token"), scope="profiles", at=utcnow())
        uow.commit()

    reply = client.post(URL, json=order(), headers={"Authorization": "Bearer profiles-token"})

    assert reply.status_code == 403
    assert 'error="insufficient_scope"' in reply.headers["www-authenticate"]
    assert export(store) == []


def test_only_the_token_hash_is_stored(store: SqlUnitOfWorkFactory) -> None:
    token = create_token(store, "orders", utcnow())

    with store.engine.connect() as conn:
        hashes = conn.execute(select(api_tokens.c.token_hash)).scalars().all()
    assert hashes == [token_hash(token)]
    assert token not in hashes
    assert token_scope(store, token) == "orders"
    assert token_scope(store, token + "x") is None
    assert token_scope(store, "") is None


def test_tokens_of_unknown_scopes_are_refused(store: SqlUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidScope, match="allowed: orders"):
        create_token(store, "admin", utcnow())


# --- taking orders in -----------------------------------------------------------------


def test_a_valid_order_is_created_and_stored(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory
) -> None:
    reply = client.post(URL, json=order(), headers=headers)

    assert reply.status_code == 201
    assert reply.json() == {
        "results": [{"order_id": "o-1", "created": True, "flagged": 0, "erased": False}]
    }
    assert stored(store, "o-1")


def test_sending_an_order_again_changes_nothing(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory
) -> None:
    client.post(URL, json=order(), headers=headers)
    before = export(store)

    again = client.post(URL, json=order(items=[item(name="Changed")]), headers=headers)

    assert again.status_code == 200
    assert again.json() == {
        "results": [{"order_id": "o-1", "created": False, "flagged": 0, "erased": False}]
    }
    assert export(store) == before
    with store.engine.connect() as conn:
        names = conn.execute(select(order_items.c.name)).scalars().all()
    assert names == ["Oxford Shirt"]


def test_a_batch_is_taken_in_whole(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory
) -> None:
    batch = {"orders": [order("o-1"), order("o-2", customer_id="c-2")]}

    reply = client.post(URL, json=batch, headers=headers)

    assert reply.status_code == 201
    assert [r["order_id"] for r in reply.json()["results"]] == ["o-1", "o-2"]
    assert stored(store, "o-1") and stored(store, "o-2")


def test_an_order_of_1000_items_is_taken_in(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory
) -> None:
    items = [item(sku=f"SKU-{n}", name=f"Item {n}") for n in range(1000)]

    reply = client.post(URL, json=order(items=items), headers=headers)

    assert reply.status_code == 201
    with store.engine.connect() as conn:
        assert len(conn.execute(select(order_items.c.line)).all()) == 1000


def test_an_unknown_customer_becomes_a_person_with_only_the_shop_identity(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory
) -> None:
    client.post(URL, json=order(customer_id="new-customer-7"), headers=headers)

    (person,) = export(store)
    assert person["identities"] == [{"channel": "shop", "external_id": "new-customer-7"}]
    assert person["attributes"] == {}
    assert person["consents"]["ledger"] == []


# --- refusals: nothing is stored --------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"", b"NaN", b"[" * 100_000])
def test_a_body_that_is_not_json_is_400(
    client: TestClient, headers: dict[str, str], body: bytes
) -> None:
    reply = client.post(URL, content=body, headers=headers)

    assert reply.status_code == 400
    assert "JSON" in reply.json()["error"]


@pytest.mark.parametrize(
    "body",
    [[order()], "order", {"orders": order()}, {"orders": []}, {"orders": [order()], "x": 1}],
)
def test_a_body_of_the_wrong_shape_is_400(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory, body: Any
) -> None:
    reply = client.post(URL, json=body, headers=headers)

    assert reply.status_code == 400
    assert isinstance(reply.json()["error"], str)
    assert export(store) == []


def test_more_than_1000_orders_in_a_batch_is_400(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory
) -> None:
    batch = {"orders": [order(f"o-{n}") for n in range(1001)]}

    reply = client.post(URL, json=batch, headers=headers)

    assert reply.status_code == 400
    assert "1000" in reply.json()["error"]
    assert export(store) == []


def _without(key: str) -> dict[str, Any]:
    body = order()
    del body[key]
    return body


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (_without("customer_id"), {"customer_id"}),
        ({"order_id": "o-1"}, {"customer_id", "ordered_at", "items"}),
        (order(items=[{"sku": "S", "name": "N"}]), {"items.0.category"}),
        (order(items=[{**item(), "quantity": "lots"}]), {"items.0.quantity"}),
        (order(items=[{**item(), "price": -1}]), {"items.0.price"}),
        (order(items="shirt"), {"items"}),
        (order(items=[]), {"items"}),
        (order(ordered_at="yesterday"), {"ordered_at"}),
        (order(ordered_at="2026-01-10T10:00:00"), {"ordered_at"}),
        ({**order(), "coupon": "X"}, {"coupon"}),
    ],
)
def test_an_invalid_order_is_400_with_field_paths_and_nothing_is_stored(
    client: TestClient,
    headers: dict[str, str],
    store: SqlUnitOfWorkFactory,
    body: dict[str, Any],
    fields: set[str],
) -> None:
    reply = client.post(URL, json=body, headers=headers)

    assert reply.status_code == 400
    (invalid,) = reply.json()["errors"]
    assert invalid["index"] == 0
    assert {e["field"] for e in invalid["errors"]} == fields
    assert all(e["error"] for e in invalid["errors"])
    assert export(store) == []


def test_a_naive_datetime_is_explained(client: TestClient, headers: dict[str, str]) -> None:
    reply = client.post(URL, json=order(ordered_at="2026-01-10T10:00:00"), headers=headers)

    (error,) = reply.json()["errors"][0]["errors"]
    assert error["field"] == "ordered_at"
    assert "timezone" in error["error"]


def test_a_batch_with_one_bad_order_stores_none(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory
) -> None:
    batch = {"orders": [order("o-1"), order("o-2", ordered_at="2026-01-10"), order("o-3")]}

    reply = client.post(URL, json=batch, headers=headers)

    assert reply.status_code == 400
    assert [e["index"] for e in reply.json()["errors"]] == [1]
    assert export(store) == []
    assert not stored(store, "o-1") and not stored(store, "o-3")


def test_a_declared_oversized_body_is_413(client: TestClient, headers: dict[str, str]) -> None:
    body = b" " * (MAX_BODY_BYTES + 1)

    reply = client.post(URL, content=body, headers=headers)

    assert reply.status_code == 413
    assert "error" in reply.json()


def test_an_oversized_body_without_a_length_is_413(
    client: TestClient, headers: dict[str, str]
) -> None:
    chunk = b" " * (1024 * 1024)

    def chunks() -> Iterator[bytes]:
        for _ in range(11):
            yield chunk

    reply = client.post(URL, content=chunks(), headers=headers)

    assert reply.status_code == 413


def test_only_post_is_allowed(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get(URL, headers=headers).status_code == 405


# --- flags ------------------------------------------------------------------------------


def test_a_dress_after_six_menswear_items_is_flagged(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory
) -> None:
    earlier = [
        order(
            f"o-{n}",
            ordered_at=f"2026-01-0{n}T10:00:00Z",
            items=[item(f"M-{n}a"), item(f"M-{n}b", "Chinos", "apparel/menswear/trousers")],
        )
        for n in (1, 2, 3)
    ]
    client.post(URL, json={"orders": earlier}, headers=headers)

    dress = order(
        "o-4", ordered_at="2026-02-01T10:00:00Z", items=[item("W-1", "Wrap Dress", DRESSES)]
    )
    reply = client.post(URL, json=dress, headers=headers)

    assert reply.json() == {
        "results": [{"order_id": "o-4", "created": True, "flagged": 1, "erased": False}]
    }
    (flag,) = flags(store, "c-1")
    assert (flag.order_id, flag.item_name) == ("o-4", "Wrap Dress")
    assert flag.department == "apparel/womenswear"
    assert flag.reason == "6 of 6 earlier items were menswear"


def test_a_first_purchase_is_never_flagged(
    client: TestClient, headers: dict[str, str], store: SqlUnitOfWorkFactory
) -> None:
    mixed = [
        item("A", "Shirt", MENSWEAR),
        item("B", "Dress", DRESSES),
        item("C", "Skillet", "home/kitchen/cookware"),
        item("D", "Serum", "beauty/skincare/serums"),
    ]

    reply = client.post(URL, json=order(items=mixed), headers=headers)

    assert reply.json()["results"][0]["flagged"] == 0
    assert flags(store, "c-1") == []


def test_results_report_each_order_of_a_batch(client: TestClient, headers: dict[str, str]) -> None:
    client.post(URL, json=order("o-1"), headers=headers)

    reply = client.post(URL, json={"orders": [order("o-1"), order("o-2")]}, headers=headers)

    assert reply.status_code == 201
    assert [(r["order_id"], r["created"]) for r in reply.json()["results"]] == [
        ("o-1", False),
        ("o-2", True),
    ]


def test_the_response_body_is_json(client: TestClient, headers: dict[str, str]) -> None:
    reply = client.post(URL, content=json.dumps(order()).encode(), headers=headers)

    assert reply.headers["content-type"] == "application/json"
