"""Shared fixtures: shop content, a clock, and entity finding with the real spaCy pipeline."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest
import yaml

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bot.adapters.content import load_content
from bot.domain.interpret import Mention
from bot.domain.questions import QuestionBank, Vocabulary

ROOT = Path(__file__).resolve().parent.parent


ENVIRONMENT_PREFIXES = ("RAPPORT_", "TELEGRAM_", "SLACK_", "SANIC_")


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads a setting from the developer's shell: each one sets what it needs."""
    for name in list(os.environ):
        if name.startswith(ENVIRONMENT_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def content() -> tuple[QuestionBank, Vocabulary]:
    return load_content(ROOT / "shop")


@pytest.fixture(scope="session")
def bank(content: tuple[QuestionBank, Vocabulary]) -> QuestionBank:
    return content[0]


@pytest.fixture(scope="session")
def vocabulary(content: tuple[QuestionBank, Vocabulary]) -> Vocabulary:
    return content[1]


@pytest.fixture(scope="session")
def find_mentions() -> Callable[[str], list[Mention]]:
    """The entity part of NLU, exactly as Rasa runs it: the project's spaCy entity ruler."""
    from bot.nlu.pipeline import build_nlp

    nlp = build_nlp(yaml.safe_load((ROOT / "shop" / "vocabulary.yml").read_text()))

    def find(text: str) -> list[Mention]:
        return [Mention(e.label_, e.text, e.start_char, e.end_char) for e in nlp(text).ents]

    return find


class Clock:
    """A settable clock for services that take one: call it for an aware datetime, or
    pass `clock.time` where seconds since the epoch are wanted (like `time.time`)."""

    START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def time(self) -> float:
        return self.now.timestamp()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()
