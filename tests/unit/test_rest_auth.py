"""Who may call the REST webhook: only holders of RAPPORT_REST_TOKEN, in every environment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.channels.rest import Refusal, authorize, parse_body
from bot.config import Settings

TOKEN = "s3cret-token-of-at-least-32-characters"


def _settings(token: str = "", production: bool = False) -> Settings:
    return dataclasses.replace(
        Settings(var_dir=Path("/nonexistent")), rest_token=token, production=production
    )


@pytest.mark.parametrize("production", [False, True])
def test_without_a_token_configured_every_call_is_refused(production: bool) -> None:
    for headers in ({}, {"authorization": "Bearer "}, {"authorization": "Bearer anything"}):
        with pytest.raises(Refusal) as refused:
            authorize(headers, _settings(production=production))
        assert refused.value.status == 403
        assert "RAPPORT_REST_TOKEN" in refused.value.error


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": TOKEN},
        {"authorization": "Bearer é"},
    ],
)
def test_a_token_is_required_when_set(headers: dict[str, str]) -> None:
    settings = _settings(token=TOKEN)
    authorize({"authorization": f"Bearer {TOKEN}"}, settings)
    with pytest.raises(Refusal) as refused:
        authorize(headers, settings)
    assert refused.value.status == 401
    assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="rapport"'


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"[]", 400),
        (b'{"message": "hi"}', 400),
        (b'{"sender": "", "message": "hi"}', 400),
        (b'{"sender": "a b", "message": "hi"}', 400),
        (b'{"sender": "a", "message": 5}', 400),
        (b'{"sender": "a", "message": "' + b"x" * 70_000 + b'"}', 413),
    ],
)
def test_malformed_bodies_are_refused_clearly(body: bytes, status: int) -> None:
    with pytest.raises(Refusal) as refused:
        parse_body(body)
    assert refused.value.status == status


def test_a_sender_is_taken_as_given_and_namespaced_later() -> None:
    assert parse_body(b'{"sender": "12345", "message": "hi"}') == ("12345", "hi", None)
