"""The shopper's language, with the real lingua models (no mocks): docs/languages.md."""

from __future__ import annotations

import dataclasses

import pytest

from bot.adapters.language import (
    CONFIDENCE_THRESHOLD,
    SUPPORTED,
    LanguageCode,
    LanguageDetector,
    LanguageGuess,
    decide,
    shared_detector,
    words_of,
)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return shared_detector()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ich möchte lieber per E-Mail informiert werden", "de"),
        ("das ist ein Geschenk für meine Mutter", "de"),
        ("lösch meine Daten", "de"),
        ("wöchentlich", "de"),
        ("c'est un cadeau pour ma sœur", "fr"),
        ("je préfère les mails, une fois par semaine", "fr"),
        ("supprimez mes données", "fr"),
        ("what do you know about me", "en"),
        ("I would rather hear from you by email", "en"),
        ("it's a birthday present for my brother", "en"),
    ],
)
def test_a_clear_message_is_detected_and_switches_from_any_previous_language(
    detector: LanguageDetector, text: str, language: str
) -> None:
    for previous in (None, *SUPPORTED):
        guess = detector.detect(text, previous=previous)
        assert guess.language == language, (text, previous, guess)
        assert guess.decided
        assert guess.confidence >= CONFIDENCE_THRESHOLD


@pytest.mark.parametrize(
    "text", ["ok", "OK!", "okay", "SMS", "WhatsApp", "Instagram", "E-Mail", "Black Friday"]
)
@pytest.mark.parametrize("previous", SUPPORTED)
def test_a_word_shared_by_the_languages_keeps_the_previous_language(
    detector: LanguageDetector, text: str, previous: LanguageCode
) -> None:
    assert detector.detect(text, previous=previous) == LanguageGuess(previous, 0.0, False)


@pytest.mark.parametrize("text", ["👍", "?", "2", "   ", ""])
def test_a_message_without_letters_keeps_the_previous_language(
    detector: LanguageDetector, text: str
) -> None:
    assert detector.detect(text, previous="fr") == LanguageGuess("fr", 0.0, False)


@pytest.mark.parametrize(
    ("text", "previous"),
    [("SMS bitte", "fr"), ("oui, please", "de"), ("danke, bye", "fr"), ("ja", "en")],
)
def test_a_short_unsure_message_keeps_the_previous_language(
    detector: LanguageDetector, text: str, previous: str
) -> None:
    guess = detector.detect(text, previous=previous)
    assert guess.language == previous
    assert not guess.decided


def test_the_threshold_keeps_the_previous_language_where_lingua_alone_would_switch(
    detector: LanguageDetector,
) -> None:
    # Lingua's best guess for "hallo" (German) is English, below the threshold.
    scores = detector.scores("hallo")
    assert max(scores, key=lambda code: scores[code]) == "en"
    assert 0 < scores["en"] < CONFIDENCE_THRESHOLD
    assert detector.detect("hallo", previous="de") == LanguageGuess("de", scores["de"], False)
    # Without the threshold, the same message would switch the conversation to English.
    assert decide(scores, "hallo", "de", threshold=0.0).language == "en"


def test_the_threshold_is_the_line_between_keeping_and_switching() -> None:
    below = {"en": CONFIDENCE_THRESHOLD - 0.01, "de": 0.2, "fr": 0.0}
    at = {"en": CONFIDENCE_THRESHOLD, "de": 0.2, "fr": 0.0}
    assert decide(below, "send me a text", "de") == LanguageGuess("de", 0.2, False)
    assert decide(at, "send me a text", "de") == LanguageGuess("en", CONFIDENCE_THRESHOLD, True)
    assert decide(at, "SMS", "de").language == "de"  # a shared word, however scored


def test_a_first_message_uses_the_best_guess_and_a_shared_word_the_default(
    detector: LanguageDetector,
) -> None:
    guess = detector.detect("ja", previous=None)
    assert (guess.language, guess.decided) == ("de", False)
    assert detector.detect("ok", previous=None) == LanguageGuess("en", 0.0, False)
    assert LanguageDetector(default="fr").detect("ok", previous=None).language == "fr"


def test_an_unsupported_previous_language_counts_as_none(detector: LanguageDetector) -> None:
    assert detector.detect("ok", previous="es") == LanguageGuess("en", 0.0, False)
    assert detector.detect("für mich selbst", previous="es").language == "de"


def test_scores_cover_exactly_the_supported_languages(detector: LanguageDetector) -> None:
    scores = detector.scores("für mich selbst")
    assert sorted(scores) == sorted(SUPPORTED)
    assert sum(scores.values()) == pytest.approx(1.0)


def test_the_detector_is_built_once_and_its_guesses_are_frozen() -> None:
    assert shared_detector() is shared_detector()
    guess = shared_detector().detect("oui", previous="fr")
    with pytest.raises(dataclasses.FrozenInstanceError):
        guess.language = "en"  # type: ignore[misc]


def test_words_of_drops_case_punctuation_and_emoji() -> None:
    assert words_of("  WhatsApp!! 👍 ") == "whatsapp"
    assert words_of("E-Mail?") == "e-mail"
    assert words_of("C'est ça…") == "c'est ça"
