"""Shop content: validation of the question bank and vocabulary, and config.yml kept in sync.

The message catalogue across languages: tests/unit/test_catalogue.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.adapters.content import parse_question_bank, parse_vocabulary
from bot.domain.errors import ContentError
from bot.nlu.pipeline import configured_model, pipeline_name

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


def _wording(*ids: str) -> dict[str, dict[str, object]]:
    """A one-language catalogue wording each question in `ids`."""
    return {"en": {"questions": {i: {"text": "?", "why": "!"} for i in ids}}}


def test_buttons_must_be_values_and_ids_unique() -> None:
    vocabulary = parse_vocabulary(VOCAB)
    question = {"id": "f", "entity": "frequency", "buttons": ["yearly"]}
    with pytest.raises(ContentError, match="yearly"):
        parse_question_bank({"questions": [question]}, vocabulary, _wording("f"))
    ok = {**question, "buttons": ["daily"]}
    with pytest.raises(ContentError, match="unique"):
        parse_question_bank({"questions": [ok, ok]}, vocabulary, _wording("f"))


def test_questions_need_a_known_entity_type() -> None:
    question = {"id": "f", "entity": "colour"}
    with pytest.raises(ContentError, match="colour"):
        parse_question_bank({"questions": [question]}, parse_vocabulary(VOCAB), _wording("f"))


def test_every_question_is_worded_and_every_wording_is_a_question() -> None:
    vocabulary = parse_vocabulary(VOCAB)
    question = {"id": "f", "entity": "frequency"}
    with pytest.raises(ContentError, match=r"en: missing questions\.f\.text"):
        parse_question_bank({"questions": [question]}, vocabulary, _wording())
    with pytest.raises(ContentError, match=r"'g'.*does not ask"):
        parse_question_bank({"questions": [question]}, vocabulary, _wording("f", "g"))


def test_wording_in_questions_yml_is_refused() -> None:
    """A shop editing the old layout is told where its texts go now, not ignored."""
    vocabulary = parse_vocabulary(VOCAB)
    inline = {"id": "f", "entity": "frequency", "text": "How often?", "why": "!"}
    with pytest.raises(ContentError, match=r"question f: \['text', 'why'\] belong in messages/"):
        parse_question_bank({"questions": [inline]}, vocabulary, _wording("f"))
    with pytest.raises(ContentError, match="messages belong in messages/"):
        parse_question_bank({"messages": {"hi": "Hi"}}, vocabulary, _wording())


def _message_functions(trees: list[ast.Module]) -> dict[str, int]:
    """Name -> position of the key argument, for every function that looks up a message.

    Starts from `QuestionBank.message` and adds every function that hands its own `key`
    parameter to one already known (Wording, `_msg`, `_result`, ...), until none is new.
    """
    known = {"message": 0}
    changed = True
    while changed:
        changed = False
        for tree in trees:
            for node in ast.walk(tree):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                params = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
                if "key" not in params or node.name in known:
                    continue
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and _callee(call) in known
                        and any(isinstance(a, ast.Name) and a.id == "key" for a in call.args)
                    ):
                        known[node.name] = params.index("key")
                        changed = True
                        break
    return known


def _callee(call: ast.Call) -> str:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    # A Wording is called like a function: `words("key")`, `self._words("key")`, `self(key)`.
    return "__call__" if name.endswith("words") or name == "self" else name


def test_the_shop_bank_has_every_message_the_bot_uses(root: Path) -> None:
    """Every key the code asks the bank for exists, found from the code's syntax tree."""
    trees = [ast.parse(p.read_text()) for p in sorted((root / "bot").rglob("*.py"))]
    functions = _message_functions(trees)
    assert {"__call__", "button", "_msg"} <= set(functions), functions
    keys: set[str] = set()
    prefixes: set[str] = set()
    for tree in trees:
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            at = functions.get(_callee(call))
            if at is None or len(call.args) <= at:
                continue
            argument = call.args[at]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                keys.add(argument.value)
            elif isinstance(argument, ast.JoinedStr) and isinstance(
                first := argument.values[0], ast.Constant
            ):
                prefixes.add(str(first.value))
    from bot.adapters.content import load_content

    bank, _ = load_content(root / "shop")
    assert len(keys) > 40, keys
    assert set(bank.languages) >= {"en", "de", "fr"}, bank.languages
    for language in bank.languages:
        messages = bank.catalogue[language]
        assert keys <= set(messages), (language, keys - set(messages))
        for prefix in prefixes:
            assert any(m.startswith(prefix) for m in messages), (language, prefix)
    assert bank.catalogue["en"] == bank.messages
