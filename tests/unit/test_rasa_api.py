"""Rasa API client pieces: tokens, the secret file, clearing chats after "forget me"."""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path
from typing import Any

import jwt
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ConversationAction
from actions.session import SLOT_GREETED, SLOT_PENDING
from bot.adapters import rasa_api
from bot.adapters.rasa_api import (
    RasaApi,
    RasaApiError,
    RasaUnreachable,
    Unaddressable,
    admin_token,
    conversation_ids,
    forget_conversations,
    forget_conversations_later,
    jwt_secret,
    load_or_create_secret,
    wait_for_background,
)
from bot.bootstrap import build
from bot.cli import parser
from bot.config import Settings, load_settings
from bot.dialogue.rights import FORGET
from bot.domain.model import Identity
from bot.store.migrate import upgrade
from tests.fakes.rasa_api import FakeRasaApi

SECRET = "s" * 64


def test_the_token_has_the_admin_shape_rasa_checks_and_expires_in_a_minute() -> None:
    token = admin_token(SECRET, now=1_800_000_000)
    claims = jwt.decode(
        token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
    )
    assert claims == {
        "user": {"username": "rapport", "role": "admin"},
        "iat": 1_800_000_000,
        "exp": 1_800_000_060,
    }
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_the_secret_file_is_created_once_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "rasa-jwt.secret"
    first = load_or_create_secret(path)
    assert len(first) == 64 and not first.startswith("-")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first


def test_the_setting_wins_over_the_file_and_a_short_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("RAPPORT_RASA_JWT_SECRET", raising=False)
    generated = jwt_secret(load_settings())
    assert (tmp_path / "rasa-jwt.secret").read_text().strip() == generated
    monkeypatch.setenv("RAPPORT_RASA_JWT_SECRET", "k" * 40)
    assert jwt_secret(load_settings()) == "k" * 40
    monkeypatch.setenv("RAPPORT_RASA_JWT_SECRET", "short")
    with pytest.raises(ValueError, match="at least 32 characters"):
        load_settings()


def test_conversations_are_the_chat_identities_with_rest_namespaced() -> None:
    identities = [
        Identity("telegram", "42"),
        Identity("shop", "customer-9"),
        Identity("rest", "a"),
        Identity("socketio", "a"),
    ]
    # A REST sender "a" is the conversation "rest:a": never the web chat's "a".
    assert conversation_ids(identities) == ["42", "a", "rest:a"]


class FakeApi:
    """Stands in for RasaApi: fails the first `failures` calls per sender."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls: list[tuple[str, list[Any]]] = []

    def __call__(self) -> FakeApi:
        return self

    async def __aenter__(self) -> FakeApi:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def replace_events(self, sender: str, events: list[Any]) -> None:
        self.calls.append((sender, events))
        if sum(1 for s, _ in self.calls if s == sender) <= self.failures:
            raise self.error


def test_clearing_retries_until_rasa_answers() -> None:
    api = FakeApi(failures=2, error=RasaUnreachable("down"))
    left = asyncio.run(forget_conversations(api, ["a", "b"], first_delay=0.001))
    assert left == []
    assert api.calls.count(("a", [])) == 3 and api.calls.count(("b", [])) == 3


def test_clearing_gives_up_after_a_bounded_number_of_attempts_and_logs_no_ids(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = FakeApi(failures=99, error=RasaApiError("replace tracker events", 503))
    with caplog.at_level(logging.INFO):
        left = asyncio.run(
            forget_conversations(api, ["secret-sender"], attempts=3, first_delay=0.001)
        )
    assert left == ["secret-sender"] and len(api.calls) == 3
    assert "Could not clear 1 of 1 conversation(s)" in caplog.text
    assert "RasaApiError 503" in caplog.text and "secret-sender" not in caplog.text


@pytest.mark.parametrize("sender", ["a b", "100%25", "x/y", "ünï", "..", "a?b", "a#b", ""])
def test_ids_rasa_cannot_name_are_refused_before_anything_is_sent(sender: str) -> None:
    async def call() -> None:
        async with RasaApi("http://127.0.0.1:9", SECRET) as api:  # nothing listens there
            await api.replace_events(sender, [])

    with pytest.raises(Unaddressable):
        asyncio.run(call())


def test_ids_of_every_channel_can_be_named() -> None:
    async def call() -> None:
        async with RasaApi("http://127.0.0.1:9", SECRET) as api:
            await api.get_tracker("U02ABCDEF:o'neil(1)+x@y.z~_-")

    with pytest.raises(RasaUnreachable):  # it got as far as connecting
        asyncio.run(call())


def test_an_id_rasa_cannot_name_is_not_retried() -> None:
    class Named(FakeApi):
        async def replace_events(self, sender: str, events: list[Any]) -> None:
            self.calls.append((sender, events))
            if sender == "a b":
                raise Unaddressable()

    api = Named(0, RasaUnreachable("unused"))
    assert asyncio.run(forget_conversations(api, ["a b", "ok"], first_delay=0.001)) == ["a b"]
    assert api.calls == [("a b", []), ("ok", [])]


def test_clearing_later_runs_after_the_caller_returns_and_stays_referenced(
    tmp_path: Path,
) -> None:
    with FakeRasaApi(SECRET) as rasa:
        settings = Settings(var_dir=tmp_path, rasa_url=rasa.url, rasa_jwt_secret=SECRET)

        async def action() -> None:
            forget_conversations_later(settings, [Identity("rest", "x"), Identity("shop", "y")])
            assert rasa.calls() == [] and len(rasa_api._background) == 1  # not inside
            await wait_for_background()

        asyncio.run(action())
    assert [(c.method, c.sender, c.body) for c in rasa.calls()] == [("PUT", "rest:x", [])]
    assert not rasa_api._background


def _tracker(text: str, intent: str, slots: dict[str, Any]) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.97}, "entities": []}
    events = [{"event": "user", "text": text, "parse_data": message, "input_channel": "rest"}]
    return Tracker("rest:shopper-9", slots, message, events, False, None, {}, "action_listen")


def test_a_confirmed_forget_me_clears_the_chat_from_rasa_after_the_action(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    upgrade(url)
    with FakeRasaApi(SECRET) as rasa:
        settings = Settings(
            database_url=url, var_dir=tmp_path, rasa_url=rasa.url, rasa_jwt_secret=SECRET
        )
        services = build(settings)
        welcome, reply = (
            ConversationAction(name, services.conversation, settings)
            for name in ("action_welcome", "action_handle_reply")
        )

        async def chat() -> CollectingDispatcher:
            await welcome.run(CollectingDispatcher(), _tracker("hi", "greet", {}), {})
            await wait_for_background()
            assert rasa.calls() == []  # nothing to clear yet
            dispatcher = CollectingDispatcher()
            slots = {SLOT_PENDING: FORGET, SLOT_GREETED: True}
            await reply.run(dispatcher, _tracker("Yes, delete everything", "affirm", slots), {})
            await wait_for_background()
            return dispatcher

        dispatcher = asyncio.run(chat())
        services.close()
    assert dispatcher.messages[0]["text"].startswith("Done: everything I knew about you")
    assert [(c.method, c.sender, c.body) for c in rasa.calls()] == [("PUT", "rest:shopper-9", [])]


@pytest.mark.parametrize(
    "argv",
    [
        ["retention", "run", "--days", "-1"],
        ["retention", "run", "--days", "nan"],
        ["retention", "run", "--days", "soon"],
        ["retention", "schedule", "--every-hours", "0"],
    ],
)
def test_retention_arguments_are_checked(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(argv)
    assert exit_.value.code == 2
