"""The question bank and the vocabulary that answers it (pure data, loaded from shop files)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.domain.errors import ContentError, UnknownQuestion

_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = " \t\n.,;:!?\"'()[]{}"


def without_accents(text: str) -> str:
    """ "arrête" -> "arrete"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_phrase(text: str) -> str:
    """Lower-case, NFKC-fold and collapse white space, for vocabulary lookups."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return _SPACES.sub(" ", folded).strip(_EDGE_PUNCTUATION)


def _contains_phrase(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text` as whole words (both already normalised)."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


EVERYTHING = "*"
"""What a bare "stop" withdraws: every purpose (see `QuestionBank.withdrawal`)."""


@dataclass(frozen=True)
class Button:
    """A quick reply: what the shopper sees and the plain text it sends back."""

    title: str
    payload: str


@dataclass(frozen=True)
class Question:
    """One profiling question.

    Attributes:
        id: stable id, also the name of the attribute its answer is stored under.
        entity: the vocabulary type whose values answer it.
        priority: higher is asked first.
        text: how it is asked.
        why: the one-sentence purpose given on "why do you ask?".
        labels: how each value id is said back to the shopper.
        buttons: value ids offered as quick replies.
        remember: how a returning shopper is told the stored answer ({value}).
        topic: a few words naming the question on a "which one?" button ("How often").
        multiple: several values allowed.
        negatives: values the shopper rules out are kept as `excluded`.
        free_text_other: when nothing in the vocabulary fits, keep the words as `other`.
    """

    id: str
    entity: str
    priority: int
    text: str
    why: str
    labels: dict[str, str]
    buttons: tuple[str, ...] = ()
    remember: str = "{value}"
    topic: str = ""
    multiple: bool = False
    negatives: bool = False
    free_text_other: bool = False

    def label(self, value_id: str) -> str:
        """How `value_id` is said to the shopper (the id itself when unlabelled)."""
        return self.labels.get(value_id, value_id.replace("_", " "))

    def quick_replies(self, value_ids: tuple[str, ...] | None = None) -> list[Button]:
        """Buttons for `value_ids` (default: the question's own buttons)."""
        chosen = value_ids if value_ids is not None else self.buttons
        return [Button(title=_capitalize(self.label(v)), payload=self.label(v)) for v in chosen]


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class EntityVocabulary:
    """Phrases of one entity type and the value ids each one means."""

    entity: str
    values: tuple[str, ...]
    phrases: dict[str, tuple[str, ...]]

    def lookup(self, text: str) -> tuple[str, ...]:
        """Value ids a phrase means: one when clear, several when ambiguous, none if unknown."""
        key = normalize_phrase(text)
        if key in self.phrases:
            return self.phrases[key]
        if key.replace(" ", "_") in self.values:
            return (key.replace(" ", "_"),)
        return ()


@dataclass(frozen=True)
class Vocabulary:
    """Every entity type's vocabulary."""

    entities: dict[str, EntityVocabulary] = field(default_factory=dict)

    def of(self, entity: str) -> EntityVocabulary:
        try:
            return self.entities[entity]
        except KeyError:
            raise ContentError(f"no vocabulary for entity type {entity!r}") from None


@dataclass(frozen=True)
class QuestionBank:
    """The ordered question bank plus the shop's wording."""

    questions: tuple[Question, ...]
    messages: dict[str, str]
    policy_version: str
    opt_out_words: frozenset[str] = frozenset()
    withdrawal_phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def withdrawal(self, text: str) -> frozenset[str] | None:
        """The consent purposes a message withdraws, whatever NLU makes of it.

        A whole message that is a stop word ("stop", "arrête", ...) withdraws
        everything (`EVERYTHING`); a message containing a purpose's phrase ("stop
        texting me") withdraws that purpose; anything else is None.
        """
        key = normalize_phrase(text)
        plain = without_accents(key)
        if key in self.opt_out_words or plain in self.opt_out_words:
            return frozenset({EVERYTHING})
        found = {
            purpose
            for purpose, phrases in self.withdrawal_phrases.items()
            if any(_contains_phrase(key, p) or _contains_phrase(plain, p) for p in phrases)
        }
        return frozenset(found) or None

    def is_opt_out(self, text: str) -> bool:
        """Whether `text` withdraws any consent (a stop word or a purpose's phrase)."""
        return self.withdrawal(text) is not None

    def topic_of(self, text: str) -> Question | None:
        """The question whose topic `text` names (a "which one?" button's text)."""
        key = normalize_phrase(text)
        for question in self.questions:
            if question.topic and normalize_phrase(question.topic) == key:
                return question
        return None

    def get(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise UnknownQuestion(question_id)

    def has(self, question_id: str) -> bool:
        return any(q.id == question_id for q in self.questions)

    def by_priority(self) -> list[Question]:
        return sorted(self.questions, key=lambda q: -q.priority)

    def message(self, key: str, **values: object) -> str:
        """A wording from the shop's messages, with `{placeholders}` filled in."""
        try:
            template = self.messages[key]
        except KeyError:
            raise ContentError(f"missing message {key!r} in the question bank") from None
        return template.format(**values)
