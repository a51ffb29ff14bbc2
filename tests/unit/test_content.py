"""Shop content: validation of the question bank and vocabulary, and config.yml kept in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.errors import ContentError
from bot.nlu.pipeline import configured_model, pipeline_name
from bot.services.content import parse_question_bank, parse_vocabulary

VOCAB = {"frequency": {"values": {"daily": ["daily"], "weekly": ["weekly"]}}}


def test_config_points_at_the_pipeline_built_from_the_current_vocabulary(root: Path) -> None:
    expected = pipeline_name((root / "shop" / "vocabulary.yml").read_text(encoding="utf-8"))
    assert configured_model(root / "config.yml") == f"var/spacy/{expected}", (
        "shop/vocabulary.yml changed: run `make nlu` and commit config.yml"
    )


def test_ambiguous_phrases_must_name_known_values() -> None:
    raw = {
        "frequency": {"values": {"daily": ["daily"]}, "ambiguous": {"often": ["daily", "hourly"]}}
    }
    with pytest.raises(ContentError, match="hourly"):
        parse_vocabulary(raw)


def test_buttons_must_be_values_and_ids_unique() -> None:
    vocabulary = parse_vocabulary(VOCAB)
    question = {"id": "f", "entity": "frequency", "text": "?", "why": "!", "buttons": ["yearly"]}
    with pytest.raises(ContentError, match="yearly"):
        parse_question_bank({"questions": [question]}, vocabulary)
    ok = {**question, "buttons": ["daily"]}
    with pytest.raises(ContentError, match="unique"):
        parse_question_bank({"questions": [ok, ok]}, vocabulary)


def test_questions_need_a_known_entity_type() -> None:
    question = {"id": "f", "entity": "colour", "text": "?", "why": "!"}
    with pytest.raises(ContentError, match="colour"):
        parse_question_bank({"questions": [question]}, parse_vocabulary(VOCAB))


def test_the_shop_bank_has_every_message_the_bot_uses(root: Path) -> None:
    import re

    used = set()
    for path in (root / "bot").rglob("*.py"):
        used |= set(re.findall(r'_msg\(\s*"([a-z_]+)"', path.read_text()))
    from bot.services.content import load_content

    bank, _ = load_content(root / "shop")
    assert used and used <= set(bank.messages), used - set(bank.messages)
