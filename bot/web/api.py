"""The shop's HTTP API: `POST /api/v1/orders`, authenticated with a bearer token.

A request carries one order object or `{"orders": [...]}`. Every order is checked
before any is stored, so a request is either taken in whole or refused whole; orders
are idempotent by `order_id`. See docs/purchases.md ("Orders in").
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.bootstrap import Services
from bot.domain.purchases import Order
from bot.services.orders import InvalidOrder, parse_order
from bot.services.tokens import token_scope

ORDERS_PATH = "/api/v1/orders"
ORDERS_SCOPE = "orders"
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_ORDERS = 1000
REALM = 'Bearer realm="rapport"'


class Refused(Exception):
    """A request answered with an error status and a JSON body."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        """The JSON response saying why."""
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


def _refuse(status: int, error: str, headers: dict[str, str] | None = None) -> NoReturn:
    raise Refused(status, {"error": error}, headers)


def bearer_token(request: Request) -> str:
    """The token of an `Authorization: Bearer <token>` header, or a 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        _refuse(401, "a bearer token is required", {"WWW-Authenticate": REALM})
    return token.strip()


def check_scope(scope: str | None, needed: str) -> None:
    """401 for an unknown token, 403 for a token of another scope."""
    if scope is None:
        challenge = f'{REALM}, error="invalid_token"'
        _refuse(401, "the token is not valid", {"WWW-Authenticate": challenge})
    if scope != needed:
        challenge = f'{REALM}, error="insufficient_scope", scope="{needed}"'
        _refuse(403, f"the token's scope is not {needed!r}", {"WWW-Authenticate": challenge})


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or a 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            _refuse(400, "invalid Content-Length")
        if int(declared) > limit:
            _refuse(413, f"the body must be at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            _refuse(413, f"the body must be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed")


def parse_json(body: bytes) -> Any:
    """The JSON document in `body`, or a 400."""
    try:
        return json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        _refuse(400, 'the body must be JSON: one order object or {"orders": [...]}')


def batch(document: Any) -> list[Any]:
    """The raw orders of a request: one order object, or `{"orders": [...]}`."""
    if not isinstance(document, dict):
        _refuse(400, 'the body must be one order object or {"orders": [...]}')
    if "orders" not in document:
        return [document]
    raws = document["orders"]
    if set(document) != {"orders"} or not isinstance(raws, list):
        _refuse(400, 'a batch must be exactly {"orders": [...]}')
    if not raws:
        _refuse(400, "the batch has no orders")
    if len(raws) > MAX_ORDERS:
        _refuse(400, f"at most {MAX_ORDERS} orders per request")
    return raws


def validate(raws: list[Any]) -> list[Order]:
    """Every order parsed, or a 400 listing each invalid one by its index."""
    orders: list[Order] = []
    invalid: list[dict[str, Any]] = []
    for index, raw in enumerate(raws):
        try:
            orders.append(parse_order(raw))
        except InvalidOrder as exc:
            invalid.append({"index": index, "errors": exc.errors})
    if invalid:
        raise Refused(400, {"errors": invalid})
    return orders


def take_in(services: Services, body: bytes) -> Response:
    """Parse, validate, then store every order of a request (blocking: run in a thread)."""
    try:
        orders = validate(batch(parse_json(body)))
    except Refused as refused:
        return refused.response()
    service = services.orders
    results = [service.ingest(order, source="api") for order in orders]
    return JSONResponse(
        {
            "results": [
                {
                    "order_id": r.order_id,
                    "created": r.created,
                    "flagged": r.flagged,
                    "erased": r.erased,
                }
                for r in results
            ]
        },
        status_code=201 if any(r.created for r in results) else 200,
    )


def _scope_of(services: Services, token: str) -> str | None:
    return token_scope(services.uow_factory, token)


def orders_route(services: Services) -> Route:
    """`POST /api/v1/orders` on `services`."""

    async def post_orders(request: Request) -> Response:
        try:
            token = bearer_token(request)
            check_scope(await run_in_threadpool(_scope_of, services, token), ORDERS_SCOPE)
            body = await read_body(request)
        except Refused as refused:
            return refused.response()
        return await run_in_threadpool(take_in, services, body)

    return Route(ORDERS_PATH, post_orders, methods=["POST"])
