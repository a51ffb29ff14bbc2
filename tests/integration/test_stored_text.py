"""Bidi overrides and zero-width characters: stored exactly, shown inert; NUL never stored.

Every backend (memory, SQLite, PostgreSQL) keeps the shopper's text as typed; the
"what do you know about me" summary and `rapport profiles show` show the invisible
characters as markers (`⟨U+202E⟩`), while `profiles export` keeps the exact text.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest

from bot.channels.guard import check
from bot.cli import main
from bot.dialogue import ConversationService
from bot.dialogue.turn import Incoming, SessionState
from bot.domain.interpret import Mention
from bot.domain.model import AttributeValue, Identity, Provenance
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.profiles import export_people
from bot.store.migrate import upgrade
from bot.store.ports import UnitOfWorkFactory
from bot.store.sql import SqlUnitOfWorkFactory, make_engine
from tests.builders import conversation

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
WEB = Identity("socketio", "b" * 32)
# "for my mum" with an RTL override, a pop, a zero-width space, an isolate pair,
# a right-to-left mark, a zero-width joiner inside a word, a BOM and a tag character.
TRICKY = (
    "gift \u202efor my mum\u202c, zero\u200bwidth, \u2067x\u2069 \u200fa\u200db\ufeff\U000e0041"
)
MARKED = (
    "gift ⟨U+202E⟩for my mum⟨U+202C⟩, zero⟨U+200B⟩width, ⟨U+2067⟩x⟨U+2069⟩ "
    "⟨U+200F⟩a⟨U+200D⟩b⟨U+FEFF⟩⟨U+E0041⟩"
)
INVISIBLE = ["\u202e", "\u202c", "\u200b", "\u2067", "\u2069", "\u200f", "\u200d", "\ufeff"]


def _other(text: str) -> AttributeValue:
    value = {"selected": ["other"], "other_text": text}
    return AttributeValue("motivations", value, Provenance.STATED, 1.0, "socketio", "m-1", T0)


def _store(uow_factory: UnitOfWorkFactory, text: str) -> None:
    with uow_factory() as uow:
        person = uow.profiles.get_or_create(identity=WEB, at=T0)
        uow.profiles.add_value(person_id=person.id, value=_other(text))
        uow.commit()


def _stored_text(uow_factory: UnitOfWorkFactory) -> object:
    with uow_factory() as uow:
        person = uow.profiles.find(identity=WEB)
    assert person is not None
    value = person.current_values()["motivations"].value
    assert isinstance(value, dict)
    return value.get("other_text")


def test_bidi_and_zero_width_characters_are_stored_exactly(
    uow_factory: UnitOfWorkFactory,
) -> None:
    _store(uow_factory, TRICKY)

    assert _stored_text(uow_factory) == TRICKY
    (document,) = export_people(uow_factory)
    assert document["attributes"]["motivations"]["value"]["other_text"] == TRICKY


def _service(
    uow_factory: UnitOfWorkFactory, bank: QuestionBank, vocabulary: Vocabulary
) -> ConversationService:
    return conversation(uow_factory, bank, vocabulary, lambda: T0, questions_per_session=10)


def test_a_typed_answer_keeps_its_invisible_characters_but_never_a_nul(
    uow_factory: UnitOfWorkFactory,
    bank: QuestionBank,
    vocabulary: Vocabulary,
    find_mentions: Callable[[str], list[Mention]],
) -> None:
    """Through the channel guard and the conversation service, as a web chat message."""
    service = _service(uow_factory, bank, vocabulary)
    count = 0

    def incoming(intent: str, raw: str) -> Incoming:
        nonlocal count
        count += 1
        verdict = check(raw, limit=2000)
        assert verdict.reply is None, verdict
        return Incoming(WEB, intent, verdict.text, find_mentions(verdict.text), f"m{count}")

    state = service.welcome(incoming("greet", "hi"), SessionState()).state
    state = service.reply(incoming("affirm", "Yes, go ahead"), state).state
    while state.pending not in ("motivations", None):
        state = service.reply(incoming("skip", "skip"), state).state
    assert state.pending == "motivations"

    turn = service.reply(incoming("inform", f"\x00{TRICKY}\x00 \x00"), state)

    assert _stored_text(uow_factory) == TRICKY
    confirmation = turn.messages[0].text  # 'Got it: "..." (in your words).'
    assert f'"{MARKED}" (in your words)' in confirmation
    assert not any(char in confirmation for char in INVISIBLE)


def test_what_do_you_know_shows_the_markers(
    uow_factory: UnitOfWorkFactory, bank: QuestionBank, vocabulary: Vocabulary
) -> None:
    _store(uow_factory, TRICKY)
    service = _service(uow_factory, bank, vocabulary)

    turn = service.what_we_know(
        Incoming(WEB, "show_profile", "what do you know about me?", [], "m-9"), SessionState()
    )

    summary = turn.messages[0].text
    assert f'"{MARKED}" (in your words)' in summary
    assert not any(char in summary for char in INVISIBLE)


def test_profiles_show_shows_the_markers_and_export_keeps_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    _store(SqlUnitOfWorkFactory(engine), TRICKY)
    engine.dispose()
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)

    assert main(["profiles", "show", f"socketio:{WEB.external_id}"]) == 0
    shown = capsys.readouterr().out
    assert main(["profiles", "export", "--format", "jsonl"]) == 0
    exported = capsys.readouterr().out

    assert json.loads(shown)["attributes"]["motivations"]["value"]["other_text"] == MARKED
    assert not any(char in shown for char in INVISIBLE)
    document = json.loads(exported)
    assert document["attributes"]["motivations"]["value"]["other_text"] == TRICKY
