"""Who may call the REST webhook: open in development, bearer token when set, off in production."""

from __future__ import annotations

import dataclasses

import pytest
from sanic.exceptions import NotFound, Unauthorized

from bot.channels.rest import authorize
from bot.config import Settings, load_settings


def _settings(token: str = "", production: bool = False) -> Settings:
    return dataclasses.replace(load_settings(), rest_token=token, production=production)


def test_open_in_development_without_a_token() -> None:
    authorize({}, _settings())


def test_off_in_production_without_a_token() -> None:
    with pytest.raises(NotFound):
        authorize({"authorization": "Bearer anything"}, _settings(production=True))


@pytest.mark.parametrize(
    "headers", [{}, {"authorization": "Bearer wrong"}, {"authorization": "s3cret-token"}]
)
def test_a_token_is_required_when_set(headers: dict[str, str]) -> None:
    settings = _settings(token="s3cret-token", production=True)
    authorize({"authorization": "Bearer s3cret-token"}, settings)
    with pytest.raises(Unauthorized) as refused:
        authorize(headers, settings)
    assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="rapport"'
