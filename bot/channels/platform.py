"""Fixes to Rasa 3.6 internals, applied when our connectors start inside the Rasa server.

Each fix keeps Rasa's behaviour and only removes a measured cost (docs/architecture.md,
"Platform fixes", and docs/benchmarks.md), or turns an internal error on untrusted input
into the refusal Rasa meant (found by tests/fuzz).
"""

from __future__ import annotations

import functools
from typing import Any

import jwt
from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from sanic_jwt import Authentication

_applied = False


@functools.lru_cache(maxsize=1)
def _action_response_validator() -> Validator:
    """Rasa's action-response schema, checked once and compiled once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator: Validator = validator_class(schema)
    return validator


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Same check and error as Rasa's, without re-checking the schema on every call.

    Rasa calls `jsonschema.validate`, which validates the *schema* against its
    meta-schema before each response: about a quarter of the Rasa server's CPU per
    turn here (py-spy), for a schema that never changes.
    """
    try:
        _action_response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid. For more information about "
            f"the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise


_sanic_jwt_decode = Authentication._decode
# What sanic-jwt itself turns into a 401; every other failure escaped it as a 500.
_REFUSED_BY_SANIC_JWT = (
    jwt.DecodeError,
    jwt.ExpiredSignatureError,
    jwt.InvalidIssuerError,
    jwt.ImmatureSignatureError,
    jwt.InvalidIssuedAtError,
    jwt.InvalidAudienceError,
)


async def _decode_or_refuse(
    self: Authentication, token: str, verify: bool = True, inline_claims: Any = None
) -> dict[str, Any]:
    """sanic-jwt's decode, with every unusable token refused (401) instead of a 500.

    sanic-jwt catches only some of PyJWT's errors: a token with `alg` none or HS512, a
    non-string `kid`, `sub` or `jti`, an unknown `crit` extension, or an Authorization
    header that is not UTF-8 escaped as a 500 with a traceback. And Rasa's `requires_auth` reads
    `payload.get("user", {}).get("role")`, so a correctly signed token whose `user` is not
    an object did too. Both are now a `DecodeError`, which sanic-jwt answers with 401.
    """
    try:
        decoded: dict[str, Any] = await _sanic_jwt_decode(
            self, token, verify=verify, inline_claims=inline_claims
        )
    except _REFUSED_BY_SANIC_JWT:
        raise
    except (jwt.InvalidTokenError, UnicodeError) as error:
        raise jwt.DecodeError("Invalid token.") from error
    if not isinstance(decoded.get("user", {}), dict):
        raise jwt.DecodeError("Invalid user claim.")
    return decoded


def apply_platform_fixes() -> None:
    """Install the fixes once per process (idempotent)."""
    global _applied
    if _applied:
        return
    RemoteAction._validate_action_result = _validate_action_result
    Authentication._decode = _decode_or_refuse
    _applied = True
