"""The message catalogue (shop/messages/): every language has every text, with the same
placeholders; German and French address the shopper formally; English is unchanged."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from string import Formatter
from typing import Any

import pytest
import yaml

from bot.adapters.content import load_content
from bot.domain.errors import ContentError
from bot.domain.questions import QuestionBank

LANGUAGES = ("en", "de", "fr")

INFORMAL_GERMAN = re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines)\b", re.I)
INFORMAL_FRENCH = re.compile(r"\b(tu|toi|ton|ta|tes|te)\b|(?<!\w)t'", re.I)

Raw = dict[str, Any]


def _texts(raw: Raw, prefix: str = "") -> dict[str, str]:
    """A catalogue file's texts by dotted key, read independently of the loader."""
    flat: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, dict):
            flat.update(_texts(value, f"{prefix}{name}."))
        else:
            assert isinstance(value, str), (prefix, name, value)
            flat[f"{prefix}{name}"] = value
    return flat


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def _catalogue_file(root: Path, name: str) -> dict[str, str]:
    path = root / "shop" / "messages" / f"{name}.yml"
    return _texts(yaml.safe_load(path.read_text(encoding="utf-8")))


# -- the shipped catalogue ---------------------------------------------------------


def test_the_shop_ships_english_german_and_french(bank: QuestionBank) -> None:
    assert bank.languages == LANGUAGES


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_language_has_exactly_the_english_keys_and_placeholders(
    root: Path, language: str
) -> None:
    english, other = _catalogue_file(root, "en"), _catalogue_file(root, language)
    assert set(other) == set(english), {
        "missing": sorted(set(english) - set(other)),
        "extra": sorted(set(other) - set(english)),
    }
    differ = {
        key: (sorted(_placeholders(text)), sorted(_placeholders(other[key])))
        for key, text in english.items()
        if _placeholders(text) != _placeholders(other[key])
    }
    assert not differ, differ
    assert len(english) > 130, len(english)


@pytest.mark.parametrize("variant", ["de-informal", "fr-informal"])
def test_informal_variants_hold_only_known_keys_with_the_same_placeholders(
    root: Path, variant: str
) -> None:
    english, base = _catalogue_file(root, "en"), _catalogue_file(root, variant.split("-")[0])
    texts = _catalogue_file(root, variant)
    assert texts, variant
    assert set(texts) <= set(base), set(texts) - set(base)
    for key, text in texts.items():
        assert _placeholders(text) == _placeholders(english[key]), key


def test_every_question_is_worded_in_every_language(bank: QuestionBank) -> None:
    for question in bank.questions:
        for language in LANGUAGES:
            wording = question.wording(language)
            assert wording.text and wording.why and wording.topic, (question.id, language)
            assert set(wording.labels) == set(question.labels), (question.id, language)
            assert set(question.buttons) <= set(wording.labels), (question.id, language)
        assert question.wording("de").text != question.text, question.id


# -- formal address ----------------------------------------------------------------


def test_german_says_sie_and_french_says_vous(root: Path) -> None:
    german = _catalogue_file(root, "de")
    french = _catalogue_file(root, "fr")
    assert not {k: t for k, t in german.items() if INFORMAL_GERMAN.search(t)}
    assert not {k: t for k, t in french.items() if INFORMAL_FRENCH.search(t)}
    assert sum(" Sie " in t or " Ihnen " in t for t in german.values()) > 40
    assert sum(" vous " in t or " vos " in t for t in french.values()) > 40


def test_the_word_check_finds_informal_address(root: Path) -> None:
    """Positive control: the informal examples are caught by the same check."""
    german, french = _catalogue_file(root, "de-informal"), _catalogue_file(root, "fr-informal")
    assert all(INFORMAL_GERMAN.search(t) for t in german.values()), german
    assert all(INFORMAL_FRENCH.search(t) for t in french.values()), french
    assert not INFORMAL_GERMAN.search("Dudelsack, Ihre Adresse, Dienstag")
    assert not INFORMAL_FRENCH.search("toutes vos tâches, tonalité, c'est fait")


# -- English unchanged -------------------------------------------------------------


ENGLISH_BEFORE = {
    "intro": "Hi! I'm {shop_name}'s assistant, a bot. I can help with questions and remember "
    "how you like to hear from us.",
    "help": 'I\'m here if you need anything. I can tell you what I know about you, and you can say "stop" at any time to stop my questions.',  # noqa: E501
    "export_link": "Your data is ready as a JSON file: {url}\nThe link works once and expires in "
    "{minutes} minutes. Don't share it.",
    "marketing_partly": "Thanks! Offers and news by {granted}, not by {denied}.",
    "link_code": "Here's your one-time code: {code}. Within 10 minutes, type \"link {code}\" in a chat with me on your other account (web chat, Telegram or Slack) and I'll know both are you. Don't share it with anyone. Already have a code from your other chat? Type it here.",  # noqa: E501
    "forget_done": "Done: everything I knew about you is deleted ({accounts} account(s)). Only a "
    "record that a deletion happened is kept, with nothing about you in it.",
    "withdrawn_profiling": "I've stopped asking questions and won't profile you any further",
    "skip_button": "Skip",
    "no_button": "No thanks",
}


def test_english_messages_are_what_they_were(bank: QuestionBank) -> None:
    for key, text in ENGLISH_BEFORE.items():
        assert bank.messages[key] == text, key
        assert bank.catalogue["en"][key] == text, key
    assert bank.message("intro", shop_name="Kaffee & Co") == (
        "Hi! I'm Kaffee & Co's assistant, a bot. I can help with questions and remember how "
        "you like to hear from us."
    )


def test_english_questions_are_what_they_were(bank: QuestionBank) -> None:
    channels = bank.get("contact_channels")
    assert channels.text == (
        "How would you like to hear from us? Email, SMS, push, WhatsApp... or not at all? "
        "Several are fine."
    )
    assert channels.why == "So we only contact you in the ways you actually want."
    assert channels.topic == "How to contact you"
    assert channels.remember == "you'd like to hear from us by {value}"
    assert [b.title for b in channels.quick_replies()] == [
        "Email",
        "SMS",
        "Push notifications",
        "WhatsApp",
        "No messages at all",
    ]
    assert channels.quick_replies()[2].payload == "push notifications"
    assert bank.get("contact_time").label("night") == "late at night"
    assert bank.get("motivations").label("other") == "your own reason"
    assert bank.get("device").text == (
        "Do you mostly shop with us in the app, on the mobile website, or on a computer?"
    )


# -- choosing the language ---------------------------------------------------------


def test_messages_and_questions_in_the_shoppers_language(bank: QuestionBank) -> None:
    assert bank.message("goodbye", language="de") == "Danke für das Gespräch. Bis bald!"
    assert bank.message("goodbye", language="fr") == "Merci pour cet échange. À bientôt !"
    assert "Kaffee & Co" in bank.message("intro", language="de", shop_name="Kaffee & Co")
    assert bank.message("marketing_only", language="fr", channel="SMS") == "Seulement SMS"
    device = bank.get("device")
    assert device.label("app", language="de") == "in der App"
    assert device.quick_replies(language="fr")[0].title == "Sur l'application"
    assert device.wording("fr").why.startswith("Pour que")
    assert bank.topic_of("Wie oft", language="de") is bank.get("contact_frequency")
    assert bank.topic_of("How often", language="de") is bank.get("contact_frequency")


@pytest.mark.parametrize(
    ("asked", "answered"),
    [("de", "de"), ("de-AT", "de"), ("fr_CH", "fr"), ("FR", "fr"), ("es", "en"), ("", "en")],
)
def test_a_language_without_texts_falls_back(bank: QuestionBank, asked: str, answered: str) -> None:
    assert bank.language_for(asked) == answered
    assert bank.message("thanks", language=asked) == bank.message("thanks", language=answered)
    question = bank.get("contact_frequency")
    assert question.wording(asked) == question.wording(answered)


# -- a broken catalogue is refused -------------------------------------------------


def _shop_copy(root: Path, tmp_path: Path) -> Path:
    shop = tmp_path / "shop"
    shutil.copytree(root / "shop", shop)
    return shop


def _edit(path: Path, change: Callable[[Raw], None]) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _drop_goodbye(raw: Raw) -> None:
    del raw["messages"]["goodbye"]


def _drop_label(raw: Raw) -> None:
    del raw["questions"]["contact_channels"]["labels"]["email"]


def _add_hello(raw: Raw) -> None:
    raw["messages"]["hello"] = "Salut"


def _rename_placeholder(raw: Raw) -> None:
    raw["messages"]["marketing_only"] = "Seulement {canal}"


def _drop_placeholder(raw: Raw) -> None:
    raw["questions"]["device"]["remember"] = "Sie kaufen meist dort ein"


def _broken_brace(raw: Raw) -> None:
    raw["messages"]["confirm"] = "Alles klar: {summary."


def _not_text(raw: Raw) -> None:
    raw["questions"]["device"]["labels"]["app"] = False


@pytest.mark.parametrize(
    ("file", "change", "named"),
    [
        ("de", _drop_goodbye, r"de: missing messages\.goodbye \(it is in en\.yml\)"),
        ("fr", _drop_label, r"fr: missing questions\.contact_channels\.labels\.email"),
        ("fr", _add_hello, r"fr: messages\.hello is not in en\.yml"),
        ("en", _drop_goodbye, r"de: messages\.goodbye is not in en\.yml"),
        (
            "fr",
            _rename_placeholder,
            r"fr: messages\.marketing_only has placeholders \{canal\} where en\.yml has "
            r"\{channel\} \(missing: \{channel\}, extra: \{canal\}\)",
        ),
        ("de", _drop_placeholder, r"de: questions\.device\.remember has placeholders none"),
        ("de", _broken_brace, r"de: messages\.confirm.*broken \{placeholder\}"),
        ("de", _not_text, r"questions\.device\.labels\.app must be a text in quotes"),
        ("de-informal", _add_hello, r"de-informal: messages\.hello is not in de\.yml"),
        (
            "fr-informal",
            _rename_placeholder,
            r"fr-informal: messages\.marketing_only has placeholders \{canal\}",
        ),
    ],
)
def test_a_broken_catalogue_is_refused_naming_language_key_and_difference(
    root: Path, tmp_path: Path, file: str, change: Callable[[Raw], None], named: str
) -> None:
    shop = _shop_copy(root, tmp_path)
    _edit(shop / "messages" / f"{file}.yml", change)
    with pytest.raises(ContentError, match=named):
        load_content(shop)


def test_a_catalogue_without_english_or_a_base_language_is_refused(
    root: Path, tmp_path: Path
) -> None:
    shop = _shop_copy(root, tmp_path)
    (shop / "messages" / "de.yml").unlink()
    with pytest.raises(ContentError, match=r"de-informal: there is no de\.yml"):
        load_content(shop)
    (shop / "messages" / "en.yml").unlink()
    with pytest.raises(ContentError, match=r"needs en\.yml"):
        load_content(shop)


def test_a_stray_file_or_field_in_the_catalogue_is_refused(root: Path, tmp_path: Path) -> None:
    shop = _shop_copy(root, tmp_path)
    shutil.copy(shop / "messages" / "de.yml", shop / "messages" / "de copy.yml")
    with pytest.raises(ContentError, match=r"\['de copy'\] are not language codes"):
        load_content(shop)
    (shop / "messages" / "de copy.yml").unlink()
    for language in LANGUAGES:
        _edit(
            shop / "messages" / f"{language}.yml",
            lambda raw: raw["questions"]["device"].update(whyy="?"),
        )
    with pytest.raises(ContentError, match=r"questions\.device has unknown fields \['whyy'\]"):
        load_content(shop.rename(tmp_path / "shop-2"))


def test_many_gaps_are_listed_up_to_a_limit(root: Path, tmp_path: Path) -> None:
    shop = _shop_copy(root, tmp_path)
    _edit(shop / "messages" / "fr.yml", lambda raw: raw.update(messages={}))
    with pytest.raises(ContentError, match=r"fr: missing messages\.intro .* and \d+ more$"):
        load_content(shop)


def test_a_new_language_is_one_more_file_held_to_the_same_rules(root: Path, tmp_path: Path) -> None:
    """Spanish, the docs' worked example: es.yml alone adds the language (here a stand-in
    copy of English), and the same check holds it to every key."""
    shop = _shop_copy(root, tmp_path)
    shutil.copy(shop / "messages" / "en.yml", shop / "messages" / "es.yml")
    bank, _ = load_content(shop)
    assert bank.languages == ("en", "de", "es", "fr")
    assert bank.language_for("es-MX") == "es"
    _edit(shop / "messages" / "es.yml", _drop_goodbye)
    with pytest.raises(ContentError, match=r"es: missing messages\.goodbye"):
        load_content(shop.rename(tmp_path / "shop-es"))


# -- formal or informal, per shop --------------------------------------------------


def _with_address(root: Path, tmp_path: Path, address: object) -> QuestionBank:
    shop = _shop_copy(root, tmp_path)
    _edit(shop / "questions.yml", lambda raw: raw.update(address=address))
    return load_content(shop)[0]


def test_formal_address_is_the_default(root: Path, tmp_path: Path, bank: QuestionBank) -> None:
    unset = _with_address(root, tmp_path, None)
    assert unset.message("help", language="de") == bank.message("help", language="de")
    assert "Sie" in bank.message("help", language="de")


def test_an_informal_shop_gets_the_informal_texts_over_the_formal_ones(
    root: Path, tmp_path: Path, bank: QuestionBank
) -> None:
    informal = _with_address(root, tmp_path, "informal")
    german, french = _catalogue_file(root, "de-informal"), _catalogue_file(root, "fr-informal")
    assert informal.message("help", language="de") == german["messages.help"]
    assert informal.message("help", language="fr") == french["messages.help"]
    assert (
        informal.get("contact_channels").wording("de").why
        == (german["questions.contact_channels.why"])
    )
    # Keys the variant does not hold come from the formal file; English is untouched.
    assert informal.message("goodbye", language="de") == bank.message("goodbye", language="de")
    assert informal.message("help") == bank.message("help")


def test_the_address_can_differ_per_language(
    root: Path, tmp_path: Path, bank: QuestionBank
) -> None:
    mixed = _with_address(root, tmp_path, {"fr": "informal"})
    assert mixed.message("help", language="de") == bank.message("help", language="de")
    assert mixed.message("help", language="fr") != bank.message("help", language="fr")


@pytest.mark.parametrize(
    ("address", "named"),
    [
        ("casual", "address must be one of"),
        ({"es": "informal"}, r"no message catalogue for \['es'\]"),
    ],
)
def test_an_unknown_address_is_refused(
    root: Path, tmp_path: Path, address: object, named: str
) -> None:
    with pytest.raises(ContentError, match=named):
        _with_address(root, tmp_path, address)
