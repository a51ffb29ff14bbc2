"""Our fix to Rasa's action-response validation keeps Rasa's verdicts and its error message."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.channels.platform import apply_platform_fixes

VALID: dict[str, Any] = {
    "events": [{"event": "slot", "name": "rp_pending", "value": None}],
    "responses": [{"text": "Got it: weekly.", "buttons": []}],
}


@pytest.fixture
def action() -> RemoteAction:
    apply_platform_fixes()
    apply_platform_fixes()  # idempotent
    return RemoteAction("action_handle_reply", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_valid_responses_pass(action: RemoteAction) -> None:
    assert action._validate_action_result(VALID) is True
    assert action._validate_action_result({}) is True


@pytest.mark.parametrize(
    "response",
    [
        {"events": "not a list"},
        {"events": [{"no_event_key": 1}]},
        {"responses": ["not an object"]},
    ],
)
def test_invalid_responses_fail_with_rasas_message(
    action: RemoteAction, response: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(response)


def test_the_replacements_are_installed_and_the_schema_compiled_once() -> None:
    from sanic_jwt import Authentication

    from bot.channels import platform

    apply_platform_fixes()
    assert RemoteAction._validate_action_result is platform._validate_action_result
    assert Authentication._decode is platform._decode_or_refuse
    platform._action_response_validator.cache_clear()
    action = RemoteAction("action_welcome", EndpointConfig("http://127.0.0.1:1/webhook"))
    for _ in range(5):
        assert action._validate_action_result(VALID) is True
    info = platform._action_response_validator.cache_info()
    assert (info.misses, info.hits) == (1, 4)


SECRET = "s" * 40


def signed(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token signed with SECRET whatever its header says (PyJWT refuses odd headers)."""

    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    body = part(header) + b"." + part(claims)
    mac = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return (body + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()


@pytest.fixture(scope="module")
def auth() -> Any:
    """sanic-jwt's Authentication as Rasa sets it up (`Initialize`), with the fixes."""
    from sanic import Sanic
    from sanic_jwt import Initialize

    async def nobody(*_: Any, **__: Any) -> None:
        return None

    asyncio.set_event_loop(asyncio.new_event_loop())  # Sanic asks for the current one
    app = Sanic("rapport_platform_fix_test")
    Initialize(app, authenticate=nobody, secret=SECRET, algorithm="HS256", user_id="username")
    apply_platform_fixes()
    return app.ctx.auth


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode({"user": "admin"}, SECRET, algorithm="HS256"),  # user not an object
        jwt.encode({"user": {"role": "admin"}}, SECRET * 2, algorithm="HS512"),
        signed({"alg": "HS256", "typ": "JWT", "kid": 5}, {"user": {"role": "admin"}}),
        "\xe9\xff",
        "not.a.token",
    ],
)
def test_unusable_tokens_are_a_decode_error_that_sanic_jwt_answers_with_401(
    auth: Any, token: str
) -> None:
    with pytest.raises(jwt.DecodeError):
        asyncio.run(auth._decode(token))


def test_a_good_token_still_decodes(auth: Any) -> None:
    good = jwt.encode({"user": {"username": "rapport", "role": "admin"}}, SECRET)
    assert asyncio.run(auth._decode(good))["user"]["role"] == "admin"
