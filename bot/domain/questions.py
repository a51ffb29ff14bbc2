"""The question bank and the vocabulary that answers it (pure data, loaded from shop files).

Everything the shopper reads exists in every language of the shop's message catalogue
(shop/messages/, loaded by bot/adapters/content.py). Whatever reads a wording takes a
`language` (default English, the reference language); a language the shop has no
texts for falls back to its base language ("de-CH" -> "de") and then to English.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
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


DEFAULT_LANGUAGE = "en"
"""The reference language: every other language has the same keys, and the fallback."""

EVERYTHING = "*"
"""What a bare "stop" withdraws: every purpose (see `QuestionBank.withdrawal`)."""


@dataclass(frozen=True)
class Button:
    """A quick reply: what the shopper sees and the plain text it sends back."""

    title: str
    payload: str


@dataclass(frozen=True)
class QuestionWording:
    """What one question says in one language (see `Question` for each field)."""

    text: str
    why: str
    labels: dict[str, str]
    remember: str = "{value}"
    topic: str = ""

    def label(self, value_id: str) -> str:
        """How `value_id` is said to the shopper (the id itself when unlabelled)."""
        return self.labels.get(value_id, value_id.replace("_", " "))


def pick_language(available: Iterable[str], language: str | None) -> str:
    """The language to answer in: `language` if available, else its base language
    ("de-CH", "de_AT" -> "de"), else English."""
    offered = set(available)
    if language:
        wanted = language.strip().replace("_", "-").lower()
        for candidate in (wanted, wanted.split("-", 1)[0]):
            if candidate in offered:
                return candidate
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Question:
    """One profiling question.

    The wording attributes (`text`, `why`, `labels`, `remember`, `topic`) are the
    English ones; `wording(language)` gives them in any language of the catalogue.

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
        wordings: the wording per language (English included); empty: English only.
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
    wordings: dict[str, QuestionWording] = field(default_factory=dict, repr=False)

    def wording(self, language: str = DEFAULT_LANGUAGE) -> QuestionWording:
        """The question's text, why, labels, remember and topic in `language`."""
        chosen = pick_language(self.wordings, language)
        if chosen in self.wordings:
            return self.wordings[chosen]
        return QuestionWording(
            text=self.text,
            why=self.why,
            labels=self.labels,
            remember=self.remember,
            topic=self.topic,
        )

    def label(self, value_id: str, language: str = DEFAULT_LANGUAGE) -> str:
        """How `value_id` is said to the shopper (the id itself when unlabelled)."""
        return self.wording(language).label(value_id)

    def quick_replies(
        self, value_ids: tuple[str, ...] | None = None, language: str = DEFAULT_LANGUAGE
    ) -> list[Button]:
        """Buttons for `value_ids` (default: the question's own buttons)."""
        chosen = value_ids if value_ids is not None else self.buttons
        wording = self.wording(language)
        return [
            Button(title=_capitalize(wording.label(v)), payload=wording.label(v)) for v in chosen
        ]


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
    """The ordered question bank plus the shop's wording.

    Attributes:
        questions: the questions, each with its wording in every language.
        messages: the English messages by key (the reference language).
        policy_version: the consent policy the wording belongs to.
        opt_out_words: whole messages that withdraw every consent (normalised).
        withdrawal_phrases: per consent purpose, phrases that withdraw it.
        catalogue: the messages per language (English included), with the shop's
            form of address applied; empty: English only.
    """

    questions: tuple[Question, ...]
    messages: dict[str, str]
    policy_version: str
    opt_out_words: frozenset[str] = frozenset()
    withdrawal_phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    catalogue: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the shop has texts for, English first."""
        others = sorted(set(self.catalogue) - {DEFAULT_LANGUAGE})
        return (DEFAULT_LANGUAGE, *others)

    def language_for(self, language: str | None) -> str:
        """The language the bot answers in when the shopper's is `language`."""
        return pick_language(self.languages, language)

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

    def topic_of(self, text: str, language: str = DEFAULT_LANGUAGE) -> Question | None:
        """The question whose topic `text` names (a "which one?" button's text), in
        `language` or else in English."""
        key = normalize_phrase(text)
        for chosen in dict.fromkeys((self.language_for(language), DEFAULT_LANGUAGE)):
            for question in self.questions:
                topic = question.wording(chosen).topic
                if topic and normalize_phrase(topic) == key:
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

    def message(self, key: str, language: object = DEFAULT_LANGUAGE, **values: object) -> str:
        """A wording from the shop's messages in `language`, `{placeholders}` filled in.

        `language` is a language code; it is typed `object` only so that callers may
        pass on their own `**values: object` (a non-text language means English).
        """
        chosen = self.language_for(language if isinstance(language, str) else None)
        texts = self.catalogue.get(chosen, self.messages)
        template = texts.get(key, self.messages.get(key))
        if template is None:
            raise ContentError(f"missing message {key!r} in the question bank")
        return template.format(**values)
