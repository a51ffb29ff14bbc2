"""The shopper's language from one chat message: English, German or French.

Lingua (lingua-language-detector), restricted to those three languages, scores the
message; `decide` then keeps the conversation's language unless the score is sure
enough, and never lets a word that is the same in several languages ("ok", "SMS",
"WhatsApp") switch it. Measured by `python -m bench.language_detection`; see
docs/languages.md, "Detecting the shopper's language". Nothing is downloaded: the
models ship inside the wheel and are loaded once, when the detector is built.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from lingua import Language, LanguageDetectorBuilder

LanguageCode = Literal["en", "de", "fr"]
SUPPORTED: tuple[LanguageCode, ...] = ("en", "de", "fr")
DEFAULT_LANGUAGE: LanguageCode = "en"

CONFIDENCE_THRESHOLD = 0.8
"""Lingua's best score must reach this to switch away from the previous language.

The threshold that follows the most language changes with at most 1% wrong switches,
chosen by `python -m bench.language_detection` on half of
bench/data/language_messages.yml and checked on the other half (242 messages, 14 mixed):
0.0% wrong switches, 56.6% of changes followed at once (61.7% for more than 3 words),
94.6% right on a first message. Whole set: 0.4% wrong ("merci, tschüss" goes German).
At 0.5: 3.9% wrong switches; at 0.9: 39.7% of changes followed.
"""

SHARED_WORDS = frozenset(
    {
        # said the same in all three
        "ok", "okay", "okey", "oki", "k", "kk", "super", "top", "cool", "sorry", "ciao",
        "bye bye", "stop", "merci", "bravo", "info", "infos", "lol", "haha", "hihi", "hm",
        "hmm", "oh", "ah", "aha", "wow", "oops", "hi", "hey",
        # channels, apps and brands
        "sms", "mms", "email", "e-mail", "emails", "e-mails", "mail", "mails", "push",
        "app", "online", "chat", "newsletter", "whatsapp", "instagram", "insta",
        "facebook", "messenger", "telegram", "signal", "tiktok", "snapchat", "youtube",
        "amazon", "paypal", "zalando", "ebay", "klarna", "twint", "black friday",
        "cyber monday",
    }
)  # fmt: skip
"""Whole messages (after `words_of`) that never switch the language, however scored."""

_LINGUA: dict[Language, LanguageCode] = {
    Language.ENGLISH: "en",
    Language.GERMAN: "de",
    Language.FRENCH: "fr",
}


@dataclass(frozen=True)
class LanguageGuess:
    """The language to answer in; `decided` is False when it kept `previous` or fell back."""

    language: LanguageCode
    confidence: float
    decided: bool


def words_of(text: str) -> str:
    """The message's words, case-folded, without punctuation, symbols or emoji."""
    kept = [
        ch if ch.isalnum() or ch in "'-" else " "
        for ch in unicodedata.normalize("NFKC", text).casefold()
    ]
    return " ".join("".join(kept).split()).strip("'-")


def decide(
    scores: Mapping[str, float],
    text: str,
    previous: str | None,
    *,
    threshold: float = CONFIDENCE_THRESHOLD,
    default: LanguageCode = DEFAULT_LANGUAGE,
    shared_words: frozenset[str] = SHARED_WORDS,
) -> LanguageGuess:
    """The previous language wins unless the detector's best score reaches `threshold`.

    `scores` maps language codes to the detector's confidence (other codes are ignored).
    A message with no letters, or one of `shared_words`, never switches. With no previous
    language an unsure guess is still the best one there is, and a shared word falls
    back to `default`.
    """
    kept = previous if previous in SUPPORTED else None
    ranked = sorted(
        ((code, score) for code, score in scores.items() if code in SUPPORTED),
        key=lambda pair: pair[1],
        reverse=True,
    )
    words = words_of(text)
    neutral = not any(ch.isalpha() for ch in words) or words in shared_words
    if ranked and not neutral:
        best, confidence = ranked[0]
        if confidence >= threshold and confidence > 0:
            return LanguageGuess(best, confidence, decided=True)
        if kept is None:
            return LanguageGuess(best, confidence, decided=False)
    fallback = kept or default
    return LanguageGuess(fallback, 0.0 if neutral else scores.get(fallback, 0.0), False)


class LanguageDetector:
    """Lingua for EN/DE/FR with its models loaded up front; build once and share it."""

    def __init__(
        self,
        *,
        threshold: float = CONFIDENCE_THRESHOLD,
        default: LanguageCode = DEFAULT_LANGUAGE,
    ) -> None:
        self.threshold = threshold
        self.default = default
        self._lingua = (
            LanguageDetectorBuilder.from_languages(*_LINGUA)
            .with_preloaded_language_models()
            .build()
        )

    def scores(self, text: str) -> dict[str, float]:
        """Lingua's confidence per supported language (summing to 1, or all 0)."""
        return {
            _LINGUA[value.language]: value.value
            for value in self._lingua.compute_language_confidence_values(text)
        }

    def detect(self, text: str, *, previous: str | None) -> LanguageGuess:
        """The language to answer `text` in, given the conversation's language so far.

        Pass `previous=None` until a guess was `decided`: an unsure best guess then
        still replaces a fallback.
        """
        return decide(
            self.scores(text), text, previous, threshold=self.threshold, default=self.default
        )


@lru_cache(maxsize=1)
def shared_detector() -> LanguageDetector:
    """The process's one detector (its models take ~0.4 s and 100-140 MiB to load)."""
    return LanguageDetector()
