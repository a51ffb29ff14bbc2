"""Loads the shop-editable content from YAML: question bank, vocabulary, purchase rules."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.domain.errors import ContentError
from bot.domain.model import PURPOSES
from bot.domain.patterns import PatternRules
from bot.domain.questions import (
    EntityVocabulary,
    Question,
    QuestionBank,
    Vocabulary,
    normalize_phrase,
    without_accents,
)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"cannot read {path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ContentError(f"{path} must hold a mapping at the top level")
    return loaded


def parse_vocabulary(raw: dict[str, Any]) -> Vocabulary:
    """Build a Vocabulary from the mapping in shop/vocabulary.yml."""
    entities: dict[str, EntityVocabulary] = {}
    for entity, spec in raw.items():
        values: dict[str, list[str]] = dict(spec.get("values") or {})
        phrases: dict[str, tuple[str, ...]] = {}
        for value_id, value_phrases in values.items():
            for phrase in value_phrases:
                phrases[normalize_phrase(str(phrase))] = (str(value_id),)
        for phrase, meanings in (spec.get("ambiguous") or {}).items():
            unknown = [m for m in meanings if m not in values]
            if unknown:
                raise ContentError(f"{entity}: ambiguous {phrase!r} names unknown {unknown}")
            phrases[normalize_phrase(str(phrase))] = tuple(str(m) for m in meanings)
        entities[str(entity)] = EntityVocabulary(
            entity=str(entity), values=tuple(str(v) for v in values), phrases=phrases
        )
    return Vocabulary(entities=entities)


def parse_question_bank(raw: dict[str, Any], vocabulary: Vocabulary) -> QuestionBank:
    """Build the QuestionBank from shop/questions.yml, checked against the vocabulary."""
    questions = []
    for spec in raw.get("questions") or []:
        question = Question(
            id=str(spec["id"]),
            entity=str(spec["entity"]),
            priority=int(spec.get("priority", 0)),
            text=str(spec["text"]),
            why=str(spec["why"]),
            labels={str(k): str(v) for k, v in (spec.get("labels") or {}).items()},
            buttons=tuple(str(b) for b in spec.get("buttons") or ()),
            remember=str(spec.get("remember", "{value}")),
            topic=str(spec.get("topic", "")),
            multiple=bool(spec.get("multiple", False)),
            negatives=bool(spec.get("negatives", False)),
            free_text_other=bool(spec.get("free_text_other", False)),
        )
        known = vocabulary.of(question.entity).values
        for value_id in question.buttons:
            if value_id not in known:
                raise ContentError(f"question {question.id}: button {value_id!r} is not a value")
        questions.append(question)
    ids = [q.id for q in questions]
    if len(ids) != len(set(ids)):
        raise ContentError("question ids must be unique")
    messages = {str(k): str(v) for k, v in (raw.get("messages") or {}).items()}
    withdrawal = raw.get("withdrawal") or {}
    words = {normalize_phrase(str(w)) for w in withdrawal.get("everything") or ()}
    words |= {without_accents(w) for w in words}
    phrases: dict[str, tuple[str, ...]] = {}
    for purpose, listed in (withdrawal.get("purposes") or {}).items():
        if purpose not in PURPOSES:
            raise ContentError(f"withdrawal: unknown consent purpose {purpose!r}")
        normalised = {normalize_phrase(str(p)) for p in listed or ()}
        phrases[str(purpose)] = tuple(sorted(normalised | {without_accents(p) for p in normalised}))
    return QuestionBank(
        questions=tuple(questions),
        messages=messages,
        policy_version=str(raw.get("policy_version", "unversioned")),
        opt_out_words=frozenset(words),
        withdrawal_phrases=phrases,
    )


@lru_cache(maxsize=8)
def load_content(content_dir: Path) -> tuple[QuestionBank, Vocabulary]:
    """Read and validate the question bank and vocabulary in `content_dir` (cached)."""
    vocabulary = parse_vocabulary(_read_yaml(content_dir / "vocabulary.yml"))
    bank = parse_question_bank(_read_yaml(content_dir / "questions.yml"), vocabulary)
    return bank, vocabulary


def load_rules(path: Path) -> PatternRules:
    """Read and check the rules file."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = PatternRules(
        department_depth=int(raw.get("department_depth", 2)),
        history_items=int(raw.get("history_items", 10)),
        min_history=int(raw.get("min_history", 3)),
        threshold=float(raw.get("threshold", 0.8)),
        flag_ttl_days=int(raw.get("flag_ttl_days", 30)),
        annual_occasions=tuple(str(o) for o in raw.get("annual_occasions", ())),
    )
    if rules.min_history < 3 or rules.history_items < rules.min_history:
        raise ContentError("purchase rules: min_history >= 3 and history_items >= min_history")
    if not 0.5 <= rules.threshold <= 1.0 or rules.department_depth < 1:
        raise ContentError("purchase rules: threshold in [0.5, 1], department_depth >= 1")
    return rules
