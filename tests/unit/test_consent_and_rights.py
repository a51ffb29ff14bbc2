"""Consent ledger, marketing consent, withdrawal by purpose, corrections and data export.

Driven through the conversation service with the in-memory store, as a shopper
would experience them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Callable

import pytest

from bot.domain.interpret import Mention
from bot.domain.model import PROFILING, ConsentStatus, Identity, Person
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.exports import DataExports, ExportPolicy
from bot.store.memory import MemoryStore
from tests.builders import conversation
from tests.conftest import Clock
from tests.unit.test_conversation import Chat, consented

KEY = "pseudonym-key-for-tests-0123456789"

SHOPPER = Identity("socketio", "a" * 32)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def exports(store: MemoryStore, clock: Clock) -> DataExports:
    return DataExports(store, ExportPolicy(public_url="https://shop.example/chat/"), clock)


@pytest.fixture
def chat(
    store: MemoryStore,
    bank: QuestionBank,
    vocabulary: Vocabulary,
    clock: Clock,
    exports: DataExports,
    find_mentions: Callable[[str], list[Mention]],
) -> Chat:
    service = conversation(store, bank, vocabulary, clock, questions_per_session=5, exports=exports)
    return Chat(service, store, find_mentions, SHOPPER)


def status(person: Person, purpose: str) -> ConsentStatus | None:
    record = person.consent(purpose)
    return record.status if record else None


def change(chat: Chat, text: str) -> list[str]:
    return chat._apply(chat.service.change(chat._incoming("change_value", text), chat.state))


def export(chat: Chat, text: str = "export my data") -> list[str]:
    return chat._apply(chat.service.export(chat._incoming("export_data", text), chat.state))


# -- the ledger ------------------------------------------------------------------------


def test_every_ledger_entry_carries_the_hash_of_the_wording_shown(
    chat: Chat, store: MemoryStore, bank: QuestionBank
) -> None:
    said = consented(chat)
    assert said
    [record] = chat.person().consents
    request = bank.message("consent_request", shop_name="Calmly")
    assert record.wording_hash == hashlib.sha256(request.encode()).hexdigest()
    assert record.channel == "socketio" and record.message_ref == "m2"
    with store() as uow:
        assert uow.rights.wording(wording_hash=record.wording_hash) == request


def test_the_ledger_is_appended_never_rewritten(chat: Chat) -> None:
    consented(chat)
    chat.stop()
    ledger = chat.person().consents
    assert [(c.purpose, c.status) for c in ledger] == [
        (PROFILING, ConsentStatus.GRANTED),
        (PROFILING, ConsentStatus.WITHDRAWN),
    ]
    assert status(chat.person(), PROFILING) is ConsentStatus.WITHDRAWN


# -- marketing consent -----------------------------------------------------------------


def test_a_preference_is_not_a_consent_marketing_is_asked_separately(chat: Chat) -> None:
    consented(chat)
    said = chat.say("inform", "text me or email")
    assert said[0] == "Got it: SMS and email."
    assert "offers and news by SMS and email?" in said[1]
    buttons = [b.title for b in chat.last_turn.messages[-1].buttons]
    assert buttons == ["Yes, go ahead", "Only SMS", "Only email", "No thanks"]
    person = chat.person()
    assert status(person, "sms_marketing") is None and status(person, "email_marketing") is None


def test_only_some_channels_grants_those_and_denies_the_rest(chat: Chat) -> None:
    consented(chat)
    chat.say("inform", "text me or email")
    said = chat.say("inform", "Only email")
    assert said[0] == "Thanks! Offers and news by email, not by SMS."
    assert said[1].startswith("How often would you like to hear from us")
    person = chat.person()
    assert status(person, "email_marketing") is ConsentStatus.GRANTED
    assert status(person, "sms_marketing") is ConsentStatus.DENIED
    request = person.consent("email_marketing")
    assert request is not None and request.wording_hash


def test_marketing_is_asked_once_per_channel_never_again(chat: Chat) -> None:
    consented(chat)
    chat.say("inform", "email")
    chat.say("deny", "no thanks")
    assert status(chat.person(), "email_marketing") is ConsentStatus.DENIED
    said = change(chat, "actually email and whatsapp")
    assert said[0] == "Thanks, I've updated that: email and WhatsApp."
    assert "offers and news by WhatsApp?" in said[1]  # email is not asked again
    said = chat.say("affirm", "yes")
    assert said[0] == "Thanks! Offers and news by WhatsApp, then."
    assert status(chat.person(), "whatsapp_marketing") is ConsentStatus.GRANTED


def test_why_explains_and_unclear_twice_records_nothing(chat: Chat) -> None:
    consented(chat)
    chat.say("inform", "sms")
    said = chat.say("why", "why?")
    assert said[0].startswith("Telling us how you like to be contacted isn't the same")
    assert "offers and news by SMS?" in said[1]
    said = chat.say("nlu_fallback", "hmm")
    assert said[0].startswith("Sorry, I didn't catch that. May we send you offers")
    said = chat.say("nlu_fallback", "dunno")
    assert said[0] == "No worries, I won't send offers anywhere."
    assert status(chat.person(), "sms_marketing") is None


# -- withdrawal by purpose -------------------------------------------------------------


def granted_sms_and_email(chat: Chat) -> None:
    consented(chat)
    chat.say("inform", "sms and email")
    chat.say("affirm", "yes")
    person = chat.person()
    assert status(person, "sms_marketing") is ConsentStatus.GRANTED
    assert status(person, "email_marketing") is ConsentStatus.GRANTED


def test_stop_texting_me_withdraws_sms_marketing_only(chat: Chat) -> None:
    granted_sms_and_email(chat)
    assert chat.state.pending == "contact_frequency"
    said = chat.say("inform", "please stop texting me")
    assert said[0] == (
        "Done: no offers or news by SMS. You can still chat with me whenever you like."
    )
    assert said[1].startswith("How often")  # the open question is asked again
    person = chat.person()
    assert status(person, "sms_marketing") is ConsentStatus.WITHDRAWN
    assert status(person, "email_marketing") is ConsentStatus.GRANTED
    assert status(person, PROFILING) is ConsentStatus.GRANTED
    withdrawal = person.consent("sms_marketing")
    assert withdrawal is not None and withdrawal.wording_hash == (
        hashlib.sha256(said[0].encode()).hexdigest()
    )


def test_a_bare_stop_withdraws_everything_granted(chat: Chat) -> None:
    granted_sms_and_email(chat)
    said = chat.say("nlu_fallback", "STOP")
    assert said == [
        "Done: I've stopped asking questions and won't profile you any further; "
        "no offers or news by email; no offers or news by SMS. "
        "You can still chat with me whenever you like."
    ]
    person = chat.person()
    for purpose in (PROFILING, "sms_marketing", "email_marketing"):
        assert status(person, purpose) is ConsentStatus.WITHDRAWN
    assert status(person, "push_marketing") is None  # never granted: nothing to withdraw
    assert chat.state.pending is None


def test_withdrawing_a_purpose_never_asked_stops_it_being_asked(chat: Chat) -> None:
    consented(chat)
    said = chat.say("nlu_fallback", "no more emails!")
    assert said[0].startswith("Done: no offers or news by email.")
    assert said[1].startswith("How would you like to hear from us?")
    chat.say("inform", "email")
    assert not chat.state.pending or not chat.state.pending.startswith("__marketing__")
    assert status(chat.person(), "email_marketing") is ConsentStatus.WITHDRAWN


def test_withdrawal_twice_says_it_is_already_so(chat: Chat) -> None:
    granted_sms_and_email(chat)
    chat.say("inform", "stop texting me")
    said = chat.say("inform", "stop texting me")
    assert said[0].startswith("You're already opted out of that: no offers or news by SMS.")
    assert len([c for c in chat.person().consents if c.purpose == "sms_marketing"]) == 2


def test_an_nlu_opt_out_naming_a_channel_withdraws_that_channel(chat: Chat) -> None:
    granted_sms_and_email(chat)
    said = chat.stop("please quit sending stuff to my inbox")
    assert said[0].startswith("Done: no offers or news by email.")
    assert status(chat.person(), "sms_marketing") is ConsentStatus.GRANTED


def test_withdrawal_during_the_marketing_question_closes_it(chat: Chat) -> None:
    consented(chat)
    chat.say("inform", "sms")
    said = chat.say("nlu_fallback", "don't text me")
    assert said[0].startswith("Done: no offers or news by SMS.")
    assert chat.state.pending is None
    assert status(chat.person(), "sms_marketing") is ConsentStatus.WITHDRAWN


# -- "that's wrong" / "change my ..." --------------------------------------------------


def answered_frequency(chat: Chat) -> None:
    consented(chat)
    chat.say("inform", "by post")
    chat.say("inform", "daily")


def test_change_asks_which_then_what_and_keeps_history(chat: Chat) -> None:
    answered_frequency(chat)
    said = change(chat, "that's wrong")
    assert said == ["Sure. Which one would you like to change?"]
    titles = [b.title for b in chat.last_turn.messages[-1].buttons]
    assert titles == ["How to contact you", "How often", "Keep it as it is"]
    said = chat.say("nlu_fallback", "How often")
    assert said[0].startswith("How often would you like to hear from us")
    said = chat.say("inform", "Monthly")
    assert said == ["Thanks, I've updated that: monthly."]
    history = chat.person().history("contact_frequency")
    assert [v.value for v in history] == ["daily", "monthly"]
    assert not history[0].is_current and history[1].is_current
    assert chat.state.pending is None


def test_change_with_the_new_value_in_the_message_applies_it_at_once(chat: Chat) -> None:
    answered_frequency(chat)
    said = change(chat, "change it to weekly please")
    assert said[0] == "Thanks, I've updated that: weekly."
    assert said[1].startswith("What brings you to us?")  # the open question, again
    assert chat.person().current_values()["contact_frequency"].value == "weekly"


def test_change_naming_a_topic_goes_straight_to_its_question(chat: Chat) -> None:
    answered_frequency(chat)
    said = change(chat, "change how often")
    assert said[0].startswith("How often would you like to hear from us")


def test_change_can_be_abandoned_and_nothing_changes(chat: Chat) -> None:
    answered_frequency(chat)
    change(chat, "change my answer")
    said = chat.say("nlu_fallback", "Keep it as it is")
    assert said == ["Okay, I've left it as it was."]
    assert [v.value for v in chat.person().history("contact_frequency")] == ["daily"]


def test_change_with_nothing_stored_says_so(chat: Chat) -> None:
    said = change(chat, "that's wrong")
    assert said[0].startswith("You haven't told me anything I could change yet.")


def test_unclear_new_value_leaves_the_old_one(chat: Chat) -> None:
    answered_frequency(chat)
    change(chat, "change how often")
    said = chat.say("nlu_fallback", "banana")
    assert said[0].startswith("Sorry, I didn't catch the new value")
    assert chat.person().current_values()["contact_frequency"].value == "daily"


# -- "export my data" ------------------------------------------------------------------


def test_a_small_export_is_given_inline_as_json(chat: Chat) -> None:
    chat.welcome()
    said = export(chat)
    intro, _, body = said[0].partition("\n")
    assert intro == "Here's everything I have about you, as JSON:"
    document = json.loads(body)
    assert document["profile"]["identities"] == [{"channel": "socketio", "external_id": "a" * 32}]


def test_a_larger_export_is_a_one_time_link_that_expires(
    chat: Chat, exports: DataExports, clock: Clock
) -> None:
    granted_sms_and_email(chat)
    chat.say("inform", "weekly")
    chat.say("inform", "stress, and learning")  # health-adjacent: still theirs to export
    said = export(chat)
    assert said[0].startswith(
        "Your data is ready as a JSON file: https://shop.example/chat/export/"
    )
    assert "works once and expires in 15 minutes" in said[0]
    token = said[0].split("/export/")[1].split()[0]
    assert exports.is_live(token) and exports.is_live(token)  # looking uses nothing up
    document = exports.claim(token)
    assert document is not None
    profile = document["profile"]
    assert profile["attributes"]["contact_frequency"]["value"] == "weekly"
    assert "stress_relief" in json.dumps(profile)  # nothing withheld from the shopper
    hashes = {c["wording_hash"] for c in profile["consents"]["ledger"]}
    assert set(document["consent_wordings"]) == hashes
    assert exports.claim(token) is None  # once only
    assert not exports.is_live(token)
    said = export(chat)
    second = said[0].split("/export/")[1].split()[0]
    clock.advance(minutes=16)
    assert exports.claim(second) is None  # expired


def test_export_links_die_with_the_person(
    chat: Chat, exports: DataExports, store: MemoryStore
) -> None:
    granted_sms_and_email(chat)
    token = export(chat)[0].split("/export/")[1].split()[0]
    with store() as uow:
        person = uow.profiles.find(identity=SHOPPER)
        assert person is not None
        uow.profiles.delete(person_id=person.id)
        uow.commit()
    assert exports.claim(token) is None
