"""Our fix to Rasa's action-response validation keeps Rasa's verdicts and its error message."""

from __future__ import annotations

from typing import Any

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
