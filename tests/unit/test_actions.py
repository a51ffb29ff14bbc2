"""The custom actions with real rasa_sdk Trackers and CollectingDispatcher, on SQLite."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import dialogue_actions
from actions.session import SLOT_ASKED, SLOT_GREETED, SLOT_LAST, SLOT_PENDING
from bot.bootstrap import build
from bot.config import Settings
from bot.dialogue.consent import CONSENT
from bot.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    upgrade(url)
    return url


@pytest.fixture
def actions(store: str, tmp_path: Path) -> Iterator[dict[str, Action]]:
    """Every dialogue action, as the action server builds them (bot/actionserver.py)."""
    settings = Settings(database_url=store, var_dir=tmp_path, shop_name="Calmly")
    services = build(settings)
    yield {a.name(): a for a in dialogue_actions(services.conversation, settings)}
    services.close()


def tracker(
    text: str,
    intent: str,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    sender: str = "shopper-7",
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities or [],
        "message_id": "msg-42",
    }
    events = [{"event": "user", "text": text, "parse_data": message, "input_channel": "rest"}]
    return Tracker(sender, slots or {}, message, events, False, None, {}, "action_listen")


def run(action: Any, track: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, {}))
    return dispatcher.messages, events


def export(url: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "rapport"), "profiles", "export"],
        env={"RAPPORT_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_welcome_greets_and_asks_for_consent(actions: dict[str, Action]) -> None:
    messages, events = run(actions["action_welcome"], tracker("hi", "greet"))
    assert messages[0]["text"].startswith("Hi! I'm Calmly's assistant, a bot.")
    assert [b["title"] for b in messages[1]["buttons"]] == ["Yes, go ahead", "No thanks"]
    # Only the slots that change are set.
    assert events == [SlotSet(SLOT_PENDING, CONSENT), SlotSet(SLOT_GREETED, True)]


def test_yes_then_an_answer_lands_in_the_store(store: str, actions: dict[str, Action]) -> None:
    slots = {SLOT_PENDING: CONSENT, SLOT_GREETED: True}
    messages, events = run(actions["action_handle_reply"], tracker("sure", "affirm", slots))
    assert messages[-1]["text"].startswith("How would you like to hear from us?")
    assert SlotSet(SLOT_PENDING, "contact_channels") in events
    entities = [{"entity": "channel", "value": "WhatsApp", "start": 8, "end": 16}]
    slots = {SLOT_PENDING: "contact_channels", SLOT_ASKED: ["contact_channels"]}
    messages, events = run(
        actions["action_handle_reply"], tracker("mostly, WhatsApp", "inform", slots, entities)
    )
    assert messages[0]["text"] == "Got it: WhatsApp."
    assert SlotSet(SLOT_LAST, "contact_channels") in events
    [person] = export(store)
    assert person["identities"] == [{"channel": "rest", "external_id": "shopper-7"}]
    answer = person["attributes"]["contact_channels"]
    assert answer["value"] == {"selected": ["whatsapp"], "excluded": []}
    assert answer["message_ref"] == "msg-42" and answer["channel"] == "rest"


def test_opt_out_clears_the_pending_question_and_confirms(
    store: str, actions: dict[str, Action]
) -> None:
    slots = {SLOT_PENDING: "contact_channels", SLOT_ASKED: ["contact_channels"]}
    messages, events = run(actions["action_opt_out"], tracker("stop", "opt_out", slots))
    assert messages[0]["text"].startswith("Done: I've stopped asking questions")
    assert SlotSet(SLOT_PENDING, None) in events
    [person] = export(store)
    assert person["consents"]["current"]["profiling"]["status"] == "withdrawn"


def test_entities_without_offsets_are_ignored_not_trusted(
    store: str, actions: dict[str, Action]
) -> None:
    slots = {SLOT_PENDING: "contact_frequency", SLOT_ASKED: ["contact_frequency"]}
    forged = [{"entity": "frequency", "value": "daily"}]
    messages, _ = run(actions["action_handle_reply"], tracker("hmm", "inform", slots, forged))
    assert messages[0]["text"].startswith("Sorry, I'm not sure I understood.")
    [person] = export(store)
    assert person["attributes"] == {}
