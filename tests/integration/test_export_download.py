"""The shopper's export link on the web app: GET shows, POST downloads once, then 410."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from bot.config import Settings
from bot.domain.model import Identity, utcnow
from bot.services.exports import DataExports, ExportPolicy, token_hash
from bot.store.sql import SqlUnitOfWorkFactory


def issue_link(store: SqlUnitOfWorkFactory, token: str, minutes: int = 15) -> str:
    at = utcnow()
    with store() as uow:
        person = uow.profiles.get_or_create(identity=Identity("telegram", "4242"), at=at)
        uow.rights.add_export(
            token_hash=token_hash(token),
            person_id=person.id,
            created_at=at,
            expires_at=at + timedelta(minutes=minutes),
        )
        uow.commit()
    return person.id


TOKEN = "t" * 43


def test_opening_the_link_shows_a_page_and_uses_nothing_up(
    client: TestClient, store: SqlUnitOfWorkFactory
) -> None:
    issue_link(store, TOKEN)
    for _ in range(2):  # e.g. a chat app's link preview, then the shopper
        page = client.get(f"/export/{TOKEN}")
        assert page.status_code == 200
        assert "Download my data" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "form-action 'self'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "same-origin"


def test_the_download_works_once(client: TestClient, store: SqlUnitOfWorkFactory) -> None:
    person_id = issue_link(store, TOKEN)
    download = client.post(f"/export/{TOKEN}")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="my-data.json"'
    assert download.headers["cache-control"] == "no-store"
    document = download.json()
    assert document["profile"]["person_id"] == person_id
    assert document["profile"]["identities"] == [{"channel": "telegram", "external_id": "4242"}]
    again = client.post(f"/export/{TOKEN}")
    assert again.status_code == 410
    assert "can't be used any more" in again.text
    assert client.get(f"/export/{TOKEN}").status_code == 410


@pytest.mark.parametrize(
    "token", ["nope", "x" * 43, "../../etc/passwd", "%00" * 30, "a" * 500, "<script>" * 5]
)
def test_unknown_or_malformed_links_get_the_same_410(client: TestClient, token: str) -> None:
    for method in ("GET", "POST"):
        reply = client.request(method, f"/export/{token}")
        assert reply.status_code in (404, 410)
        assert "<script>" not in reply.text


def test_an_expired_link_is_refused(
    client: TestClient, store: SqlUnitOfWorkFactory, settings: Settings
) -> None:
    issue_link(store, TOKEN, minutes=0)
    assert client.post(f"/export/{TOKEN}").status_code == 410
    exports = DataExports(store, ExportPolicy(), utcnow)
    assert not exports.is_live(TOKEN)
