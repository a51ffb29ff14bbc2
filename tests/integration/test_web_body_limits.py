"""Every route of the web app refuses a body over its limit with 413, before reading it all.

The limits (docs/security.md): 10 MiB for the orders API, 1 KiB for everything else
(the chat page, /healthz, static files, export links, unknown paths). Checked with a
declared `Content-Length` and with a chunked body (no length), through Starlette's test
client and over the wire with uvicorn.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Iterator

import pytest
import uvicorn
from starlette.testclient import TestClient

from bot.config import Settings
from bot.domain.model import utcnow
from bot.services.tokens import create_token
from bot.store.sql import SqlUnitOfWorkFactory
from bot.web.api import MAX_BODY_BYTES, ORDERS_PATH
from bot.web.app import create_app
from bot.web.limits import DEFAULT_MAX_BODY_BYTES

EXPORT_LINK = "/export/" + "x" * 43
# (method, path, limit): every route the app serves, and an unknown path.
ROUTES = [
    ("GET", "/", DEFAULT_MAX_BODY_BYTES),
    ("POST", "/", DEFAULT_MAX_BODY_BYTES),  # not allowed: the size is checked first
    ("GET", "/healthz", DEFAULT_MAX_BODY_BYTES),
    ("GET", "/static/chat.js", DEFAULT_MAX_BODY_BYTES),
    ("GET", "/static/vendor/socket.io.min.js", DEFAULT_MAX_BODY_BYTES),
    ("POST", EXPORT_LINK, DEFAULT_MAX_BODY_BYTES),
    ("GET", "/no/such/page", DEFAULT_MAX_BODY_BYTES),
    ("POST", ORDERS_PATH, MAX_BODY_BYTES),
]
IDS = [f"{method} {path[:20]}" for method, path, _ in ROUTES]
CHUNK = 64 * 1024


@pytest.fixture
def auth(store: SqlUnitOfWorkFactory) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(store, 'orders', utcnow())}"}


def an_order_padded_to(size: int) -> bytes:
    """A valid order, padded with JSON whitespace to `size` bytes."""
    order = {
        "order_id": "o-big",
        "customer_id": "c-1",
        "ordered_at": "2026-01-10T10:00:00+01:00",
        "items": [{"sku": "S", "name": "Shirt", "category": "apparel/menswear/shirts"}],
    }
    raw = json.dumps(order).encode()
    return raw + b" " * (size - len(raw))


def nothing_stored(store: SqlUnitOfWorkFactory) -> bool:
    with store() as uow:
        return not uow.orders.exists(order_id="o-big") and uow.profiles.list_ids() == []


@pytest.mark.parametrize(("method", "path", "limit"), ROUTES, ids=IDS)
def test_a_declared_oversized_body_is_413(
    client: TestClient,
    store: SqlUnitOfWorkFactory,
    auth: dict[str, str],
    method: str,
    path: str,
    limit: int,
) -> None:
    reply = client.request(method, path, content=an_order_padded_to(limit + 1), headers=auth)

    assert reply.status_code == 413
    assert reply.json() == {"error": f"the body must be at most {limit} bytes"}
    assert nothing_stored(store)


@pytest.mark.parametrize(("method", "path", "limit"), ROUTES, ids=IDS)
def test_a_chunked_oversized_body_is_413(
    client: TestClient,
    store: SqlUnitOfWorkFactory,
    auth: dict[str, str],
    method: str,
    path: str,
    limit: int,
) -> None:
    """No Content-Length. (The test client buffers the body; the over-the-wire test
    below shows the refusal comes before the end of the stream.)"""
    body = an_order_padded_to(limit + 8 * CHUNK)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), CHUNK):
            yield body[start : start + CHUNK]

    reply = client.request(method, path, content=chunks(), headers=auth)

    assert reply.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in reply.request.headers
    assert reply.status_code == 413
    assert nothing_stored(store)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/healthz", 200),
        ("GET", "/static/chat.js", 200),
        ("GET", "/no/such/page", 404),
    ],
)
def test_a_body_up_to_the_limit_changes_nothing(
    client: TestClient, method: str, path: str, status: int
) -> None:
    declared = client.request(method, path, content=b"x" * DEFAULT_MAX_BODY_BYTES)

    def chunks() -> Iterator[bytes]:
        yield b"x" * (DEFAULT_MAX_BODY_BYTES // 2)
        yield b"x" * (DEFAULT_MAX_BODY_BYTES // 2)

    chunked = client.request(method, path, content=chunks())

    assert declared.status_code == chunked.status_code == status


def test_an_order_at_the_limit_is_taken_in(
    client: TestClient, store: SqlUnitOfWorkFactory, auth: dict[str, str]
) -> None:
    reply = client.post(ORDERS_PATH, content=an_order_padded_to(MAX_BODY_BYTES), headers=auth)

    assert reply.status_code == 201, reply.text
    assert not nothing_stored(store)


def test_an_unreadable_content_length_is_400(client: TestClient) -> None:
    reply = client.get("/healthz", headers={"Content-Length": "12abc"})

    assert reply.status_code == 400


# --- over the wire -------------------------------------------------------------------------


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, int]]:
    """The web app under uvicorn on a free port, as `rapport web` runs it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(settings), ws="none", lifespan="off", log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield sock.getsockname()
    running.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _status(address: tuple[str, int], head: str, chunks: int) -> int:
    """Send `head`, then up to `chunks` chunks of 64 KiB (chunked); the response's status."""
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(head.encode())
        try:
            for _ in range(chunks):
                conn.sendall(f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n")
        except OSError:
            pass  # the server answered and closed while we were still sending
        reply = b""
        while b"\r\n" not in reply:
            data = conn.recv(4096)
            if not data:
                break
            reply += data
    return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize(("method", "path", "limit"), ROUTES, ids=IDS)
def test_over_the_wire_an_oversized_body_is_413(
    server: tuple[str, int], auth: dict[str, str], method: str, path: str, limit: int
) -> None:
    headers = f"Host: shop\r\nAuthorization: {auth['Authorization']}\r\n"
    declared = f"{method} {path} HTTP/1.1\r\n{headers}Content-Length: {limit + 1}\r\n\r\n"
    chunked = f"{method} {path} HTTP/1.1\r\n{headers}Transfer-Encoding: chunked\r\n\r\n"
    # Nothing of the declared body is sent: the answer must not wait for it.
    assert _status(server, declared, 0) == 413
    # Twice the limit is sent, and the stream is never ended (no final 0-chunk).
    assert _status(server, chunked, 2 * limit // CHUNK + 2) == 413
