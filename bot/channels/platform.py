"""Fixes to Rasa 3.6 internals, applied when our connectors start inside the Rasa server.

Each fix keeps Rasa's behaviour and only removes a measured cost; see
docs/architecture.md ("Platform fixes") and docs/benchmarks.md.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

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


def apply_platform_fixes() -> None:
    """Install the fixes once per process (idempotent)."""
    global _applied
    if _applied:
        return
    RemoteAction._validate_action_result = _validate_action_result
    _applied = True
