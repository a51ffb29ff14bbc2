"""Turns a shopper's reply into an answer to one question: understood, ambiguous or unclear.

Pure rules over the entities NLU found (type, text, character offsets) and the
message text. Negation is judged per clause: "text me, email is too much" is SMS
and not email. Nothing here guesses: an ambiguous phrase ("message me") yields
candidates to ask about, and nothing recognisable yields Unclear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from bot.domain.model import JsonValue
from bot.domain.questions import Question, Vocabulary
from bot.domain.text import inert

MAX_OWN_WORDS = 200

# Cues that rule out what follows them in the same clause ("not email").
_PREFIX_CUES = re.compile(
    r"\b(not|no|never|don'?t|do not|doesn'?t|dont|without|except|hate|stop|"
    r"instead of|rather than|other than|anything but|apart from|nor)\b"
)
# Cues that rule out what precedes them in the same clause ("email is too much").
_POSTFIX_CUES = re.compile(
    r"(too much|too many|too often|is annoying|are annoying|annoying|not for me|"
    r"no thanks|no thank you|is spam|please no|no way)"
)
_CLAUSE_BREAKS = re.compile(r"[,;.!?\n]|\bbut\b|\bthough\b|\bhowever\b")
_ALL_WORDS = re.compile(r"\b(both|all of them|all of those|all three|all)\b")


@dataclass(frozen=True)
class Mention:
    """An entity NLU found in the message."""

    entity: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Understood:
    """A clear answer: the value to store and how to say it back."""

    value: JsonValue
    summary: str


@dataclass(frozen=True)
class Ambiguous:
    """Several readings: ask "did you mean X or Y?"; `known` keeps what was clear."""

    candidates: tuple[str, ...]
    known: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Unclear:
    """Nothing recognisable for this question."""


Interpretation = Union[Understood, Ambiguous, Unclear]


def _clause_bounds(text: str, position: int) -> tuple[int, int]:
    start = 0
    end = len(text)
    for match in _CLAUSE_BREAKS.finditer(text):
        if match.end() <= position:
            start = match.end()
        elif match.start() >= position:
            end = match.start()
            break
    return start, end


def is_negated(text: str, mention: Mention) -> bool:
    """Whether the clause around `mention` rules it out."""
    # "anything but email": that "but" negates rather than starting a new clause.
    protected = text.lower().replace("anything but", "anything~~~~")
    start, end = _clause_bounds(protected, mention.start)
    before = protected[start : mention.start].replace("anything~~~~", "anything but")
    after = protected[mention.end : end]
    if _PREFIX_CUES.search(before):
        return True
    return bool(_POSTFIX_CUES.search(after))


def _read_mentions(
    question: Question, vocabulary: Vocabulary, text: str, mentions: list[Mention]
) -> tuple[list[str], list[str], list[tuple[str, ...]]]:
    """Split the question's mentions into clear yes-values, ruled-out values and ambiguities."""
    words = vocabulary.of(question.entity)
    selected: list[str] = []
    excluded: list[str] = []
    ambiguous: list[tuple[str, ...]] = []
    for mention in sorted(mentions, key=lambda m: m.start):
        if mention.entity != question.entity:
            continue
        meanings = words.lookup(mention.text)
        if not meanings:
            continue
        negated = is_negated(text, mention)
        if len(meanings) == 1:
            target = excluded if negated else selected
            if meanings[0] not in target:
                target.append(meanings[0])
        elif not negated:
            ambiguous.append(meanings)
    return selected, excluded, ambiguous


def summarize(question: Question, value: JsonValue) -> str:
    """Say a stored value back in plain words ("SMS, not email").

    The shopper's own words are shown inert (bidi and zero-width characters as markers).
    """
    if isinstance(value, str):
        return question.label(value)
    if not isinstance(value, dict):
        return str(value)
    own_words = inert(str(value.get("other_text", "")))
    selected = [
        f'"{own_words}" (in your words)' if v == "other" else question.label(v)
        for v in value.get("selected", [])
    ]
    excluded = [question.label(v) for v in value.get("excluded", [])]
    text = join_words(selected)
    if excluded:
        text = (
            f"{text}, not {join_words(excluded, 'or')}"
            if text
            else f"not {join_words(excluded, 'or')}"
        )
    return text


def join_words(items: list[str], last: str = "and") -> str:
    """ "a, b and c" (or "a, b or c" with `last="or"`)."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _multi_value(
    question: Question, selected: list[str], excluded: list[str], other_text: str | None = None
) -> Understood:
    if "none" in selected and len(selected) > 1:
        selected = [v for v in selected if v != "none"]
    value: dict[str, JsonValue] = {"selected": selected}
    if question.negatives:
        value["excluded"] = [v for v in excluded if v not in selected]
    if other_text:
        value["other_text"] = other_text
    return Understood(value=value, summary=summarize(question, value))


def _own_words(text: str) -> str | None:
    words = re.findall(r"[^\W\d_]{2,}", text)
    if len(words) < 2:
        return None
    return " ".join(text.split())[:MAX_OWN_WORDS]


def interpret(
    question: Question,
    vocabulary: Vocabulary,
    text: str,
    mentions: list[Mention],
    *,
    allow_own_words: bool = True,
) -> Interpretation:
    """Read `text` (with its NLU `mentions`) as an answer to `question`."""
    selected, excluded, ambiguous = _read_mentions(question, vocabulary, text, mentions)
    if question.multiple:
        if ambiguous:
            candidates = tuple(dict.fromkeys(m for group in ambiguous for m in group))
            return Ambiguous(candidates, {"selected": selected, "excluded": excluded})
        if selected or (excluded and question.negatives):
            return _multi_value(question, selected, excluded)
        if question.free_text_other and allow_own_words:
            own = _own_words(text)
            if own:
                return _multi_value(question, ["other"], [], own)
        return Unclear()
    if len(selected) == 1:
        return Understood(value=selected[0], summary=question.label(selected[0]))
    if len(selected) > 1:
        return Ambiguous(tuple(selected))
    if ambiguous:
        candidates = tuple(m for m in dict.fromkeys(ambiguous[0]) if m not in excluded)
        if len(candidates) == 1:
            return Understood(value=candidates[0], summary=question.label(candidates[0]))
        return Ambiguous(candidates)
    return Unclear()


def resolve_clarification(
    question: Question,
    vocabulary: Vocabulary,
    candidates: tuple[str, ...],
    known: dict[str, list[str]],
    text: str,
    mentions: list[Mention],
) -> Interpretation:
    """Read the reply to "did you mean X or Y?": a candidate, "both", or a fresh answer."""
    fresh = interpret(question, vocabulary, text, mentions, allow_own_words=False)
    picked: list[str] = []
    if isinstance(fresh, Understood):
        value = fresh.value
        picked = list(value.get("selected", [])) if isinstance(value, dict) else [str(value)]
    elif question.multiple and _ALL_WORDS.search(text.lower()):
        picked = list(candidates)
    if not picked:
        return fresh if isinstance(fresh, Ambiguous) else Unclear()
    if not question.multiple:
        return Understood(value=picked[0], summary=question.label(picked[0]))
    selected = list(dict.fromkeys([*known.get("selected", []), *picked]))
    excluded = list(known.get("excluded", []))
    if isinstance(fresh, Understood) and isinstance(fresh.value, dict):
        excluded = list(dict.fromkeys([*excluded, *fresh.value.get("excluded", [])]))
    return _multi_value(question, selected, excluded)
