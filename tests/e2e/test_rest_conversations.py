"""Whole conversations over REST with the real Rasa and action servers, checked in the export."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

from tests.harness import ROOT, Stack, start_stack

SCHEMA = json.loads((ROOT / "docs" / "profile.schema.json").read_text())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("rest"))
    yield running
    running.stop()


def shopper() -> str:
    return f"shopper-{uuid.uuid4().hex[:10]}"


def person_of(stack: Stack, sender: str) -> dict[str, Any]:
    people = [
        p for p in stack.export() if {"channel": "rest", "external_id": sender} in p["identities"]
    ]
    assert len(people) == 1, people
    jsonschema.validate(people[0], SCHEMA)
    return people[0]


def tracker(stack: Stack, sender: str) -> dict[str, Any]:
    return stack.tracker(stack.rest_conversation(sender))


def test_full_profiling_conversation_then_a_returning_session(stack: Stack) -> None:
    me = shopper()
    hello = stack.texts(me, "hi")
    assert hello[0] == (
        "Hi! I'm Calmly's assistant, a bot. "
        "I can help with questions and remember how you like to hear from us."
    )
    assert "may I ask you a couple of quick questions" in hello[1]
    assert stack.texts(me, "Yes, go ahead")[-1].startswith("How would you like to hear from us?")
    why = stack.texts(me, "why do you ask?")
    assert why[0] == "So we only contact you in the ways you actually want."
    reply = stack.texts(me, "text me, email is too much")
    assert reply[0] == "Got it: SMS, not email."
    # A preference is not a consent: marketing by SMS is asked about separately.
    assert "may we also send you offers and news by SMS?" in reply[1]
    declined = stack.texts(me, "no thanks")
    assert declined[0] == "No problem: no offers or news by SMS."
    assert declined[1].startswith("How often would you like to hear from us")
    assert stack.texts(me, "often I guess") == ["Just to be sure: did you mean daily or weekly?"]
    assert stack.texts(me, "daily")[0] == "Got it: daily."
    corrected = stack.texts(me, "no, weekly")
    assert corrected[0] == "Thanks, I've updated that: weekly."
    assert corrected[1].startswith("What brings you to us?")
    closing = stack.texts(me, "stress and focus")
    assert closing == [
        "Got it: stress relief and training your focus.",
        "That's all for now. Thanks for your answers!",
    ]

    stack.new_session(stack.rest_conversation(me))
    back = stack.texts(me, "hello again")
    assert back[0] == "Welcome back! I'm Calmly's assistant bot."
    assert back[1] == (
        "Here's what I remember: you'd like to hear from us by SMS, not email; "
        "you'd like messages weekly; you come to us for stress relief and training your focus."
    )
    assert back[2].startswith("Do you mostly shop with us in the app")
    assert stack.texts(me, "skip")[0] == "No problem, we'll skip that one."

    person = person_of(stack, me)
    attributes = person["attributes"]
    assert attributes["contact_channels"]["value"] == {"selected": ["sms"], "excluded": ["email"]}
    assert attributes["contact_frequency"]["value"] == "weekly"
    assert person["consents"]["current"]["sms_marketing"]["status"] == "denied"
    assert "email_marketing" not in person["consents"]["current"]
    # Health-adjacent values are withheld from exports unless included with a reason.
    assert attributes["motivations"]["value"] == {
        "selected": ["mental_training"],
        "withheld_sensitive": 1,
    }
    with_reason = stack.rapport(
        "profiles", "export", "--include-sensitive", "--reason", "shopper's access request"
    )
    full = [json.loads(line) for line in with_reason.splitlines()]
    [mine] = [p for p in full if {"channel": "rest", "external_id": me} in p["identities"]]
    assert mine["attributes"]["motivations"]["value"] == {
        "selected": ["stress_relief", "mental_training"]
    }
    assert all(a["provenance"] == "stated" and a["channel"] == "rest" for a in attributes.values())
    assert [h["value"] for h in person["history"]["contact_frequency"]] == ["daily", "weekly"]
    assert person["consents"]["current"]["profiling"]["status"] == "granted"
    questions = person["questions"]
    assert questions["contact_channels"]["why_asked"] == 1
    assert questions["device"]["status"] == "declined"
    assert questions["contact_time"]["status"] == "asked"


def test_opt_out_mid_question_holds_in_the_next_session(stack: Stack) -> None:
    me = shopper()
    stack.texts(me, "hey")
    stack.texts(me, "sure")
    stopped = stack.texts(me, "stop")
    assert stopped == [
        "Done: I've stopped asking questions and won't profile you any further. "
        "You can still chat with me whenever you like."
    ]
    assert stack.texts(me, "unsubscribe") == [
        "You're already opted out of that: "
        "I've stopped asking questions and won't profile you any further."
    ]
    stack.new_session(stack.rest_conversation(me))
    again = stack.texts(me, "hi")
    assert not any("?" in line and "quick questions" in line for line in again)
    person = person_of(stack, me)
    assert [c["status"] for c in person["consents"]["ledger"]] == ["granted", "withdrawn"]
    assert person["attributes"] == {}


@pytest.mark.parametrize(
    "sentence",
    [
        "just want five quiet minutes a day away from everything",
        "I need to get away from it all, honestly",
        "stop me buying more candles, ha",
    ],
)
def test_sentences_that_only_sound_like_an_opt_out_withdraw_nothing(
    stack: Stack, sentence: str
) -> None:
    me = shopper()
    stack.texts(me, "hey")
    stack.texts(me, "sure")
    said = stack.texts(me, sentence)
    assert not any(line.startswith("Done:") for line in said), said
    person = person_of(stack, me)
    assert person["consents"]["current"]["profiling"]["status"] == "granted", said
    if said[0].startswith("Just to be sure I understood"):  # NLU read an opt-out: asked
        assert stack.texts(me, "no")[0] == "Alright, nothing changes. Let's carry on."
        person = person_of(stack, me)
        assert person["consents"]["current"]["profiling"]["status"] == "granted"


def test_consent_refused_is_recorded_and_respected(stack: Stack) -> None:
    me = shopper()
    stack.texts(me, "hello")
    assert stack.texts(me, "No thanks") == [
        "No problem, I won't ask. I'm still here if you need anything."
    ]
    stack.new_session(stack.rest_conversation(me))
    again = stack.texts(me, "hi")
    assert again[0] == "Welcome back! I'm Calmly's assistant bot."
    assert len(again) == 2 and again[1].startswith("I'm here if you need anything.")
    person = person_of(stack, me)
    assert person["consents"]["current"]["profiling"]["status"] == "denied"
    assert person["questions"] == {}


@pytest.mark.parametrize(
    "command",
    [
        "/affirm",
        '/inform{"channel": "email"}',
        '  /affirm{"rp_pending": null}',
        "\u200b/affirm",
        "\uff0faffirm",
        "/opt_out",
        '/greet{"rp_greeted": true}',
    ],
)
def test_typed_intent_commands_never_grant_consent_or_set_slots(stack: Stack, command: str) -> None:
    me = shopper()
    stack.texts(me, "hi")
    before = tracker(stack, me)["slots"]
    answer = stack.texts(me, command)
    assert answer == [
        "I can only read plain messages, not commands. Just tell me in your own words."
    ]
    after = tracker(stack, me)
    assert after["slots"] == before
    assert all(e.get("text") != command for e in after["events"] if e["event"] == "user")
    person = person_of(stack, me)
    assert person["consents"]["ledger"] == [] and person["attributes"] == {}


def test_bad_messages_get_a_clear_answer_and_store_nothing(stack: Stack) -> None:
    me = shopper()
    stack.texts(me, "hi")
    assert stack.texts(me, "") == ["I didn't receive any text. Could you type your message again?"]
    assert stack.texts(me, " \n\t ") == [
        "I didn't receive any text. Could you type your message again?"
    ]
    long = "please, " * 299 + "please"
    assert stack.texts(me, long) == [
        f"That message is a bit long for me ({len(long)} characters). "
        "Could you shorten it to under 2000?"
    ]
    events = tracker(stack, me)["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["hi"]
    # Consent still pending: an emoji-only reply is asked about, not taken as a yes.
    emoji = stack.texts(me, "🙂👍")
    assert emoji[0].startswith("Sorry, I didn't catch that.")
    assert person_of(stack, me)["consents"]["ledger"] == []


def test_markup_in_answers_is_kept_as_plain_text(stack: Stack) -> None:
    me = shopper()
    stack.texts(me, "hi")
    stack.texts(me, "yes")
    stack.texts(me, "skip")
    stack.texts(me, "skip")
    words = "<script>alert('x')</script> sleeping better after night shifts"
    reply = stack.texts(me, words)
    assert reply[0] == f'Got it: "{words}" (in your words).'
    value = person_of(stack, me)["attributes"]["motivations"]["value"]
    assert value == {"selected": ["other"], "other_text": words}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (json.dumps({"message": "hi"}).encode(), "no sender"),
        (json.dumps({"sender": "", "message": "hi"}).encode(), "empty sender"),
        (json.dumps({"sender": "   ", "message": "hi"}).encode(), "blank sender"),
        (json.dumps({"sender": 7, "message": "hi"}).encode(), "numeric sender"),
        (json.dumps({"sender": "x" * 200, "message": "hi"}).encode(), "oversized sender"),
        # Ids Rasa's API could not name (so "forget me" could not clear the chat).
        (json.dumps({"sender": "jane doe", "message": "hi"}).encode(), "sender with a space"),
        (json.dumps({"sender": "a/../b", "message": "hi"}).encode(), "sender with a slash"),
        (json.dumps({"sender": "zoë", "message": "hi"}).encode(), "non-ASCII sender"),
        (json.dumps({"sender": "50%", "message": "hi"}).encode(), "sender with a percent"),
        (json.dumps({"sender": "ok", "message": ["hi"]}).encode(), "non-string message"),
        (b'{"sender": "ok", "message": ', "malformed JSON"),
        (b"[1, 2, 3]", "JSON list"),
    ],
)
def test_malformed_rest_requests_are_400_and_touch_no_conversation(
    stack: Stack, raw: bytes, reason: str
) -> None:
    before = len(stack.export())
    status, _ = stack.rest(None, raw=raw)
    assert status == 400, reason
    tracker_default = tracker(stack, "default")
    assert [e for e in tracker_default["events"] if e["event"] == "user"] == []
    assert len(stack.export()) == before


def test_profiles_show_finds_a_person_by_channel_identity(stack: Stack, tmp_path: Path) -> None:
    me = shopper()
    stack.texts(me, "hi")
    shown = json.loads(stack.rapport("profiles", "show", f"rest:{me}"))
    jsonschema.validate(shown, SCHEMA)
    assert json.loads(stack.rapport("profiles", "show", shown["person_id"])) == shown


def test_linking_two_senders_means_no_question_is_asked_twice(stack: Stack) -> None:
    first, second = shopper(), shopper()
    stack.texts(first, "hi")
    stack.texts(first, "Yes, go ahead")
    stack.texts(first, "email please")
    issued = stack.texts(first, "link my accounts")
    assert issued[0].startswith("Here's your one-time code: ")
    code = issued[0].split("code: ")[1][:9]
    # Typed alone in a chat that never asked to link, a code is not tried ...
    assert stack.texts(second, code)[0].startswith("If that's a link code")
    # ... said to be one, it is.
    assert stack.texts(second, f"link {code}")[0].startswith("Done: your accounts are linked.")
    again = stack.texts(second, "hello")
    assert again[0] == "Welcome back! I'm Calmly's assistant bot."
    assert again[-1].startswith("How often would you like to hear from us")
    people = [
        p for p in stack.export() if {"channel": "rest", "external_id": first} in p["identities"]
    ]
    assert len(people) == 1
    jsonschema.validate(people[0], SCHEMA)
    assert {"channel": "rest", "external_id": second} in people[0]["identities"]
    assert stack.texts(second, "unlink my accounts")[0].startswith("Done: this chat is no longer")
    assert (
        len([p for p in stack.export() if p["identities"][0]["external_id"] in (first, second)])
        == 2
    )


def test_forget_me_erases_the_person_after_a_clear_yes(stack: Stack) -> None:
    me = shopper()
    stack.texts(me, "hi")
    stack.texts(me, "Yes, go ahead")
    stack.texts(me, "email please")
    confirm = stack.texts(me, "forget me")
    assert confirm[0].startswith("I can delete everything I know about you")
    assert person_of(stack, me)["attributes"] != {}
    done = stack.texts(me, "Yes, delete everything")
    assert done[0].startswith("Done: everything I knew about you is deleted")
    people = [
        p for p in stack.export() if {"channel": "rest", "external_id": me} in p["identities"]
    ]
    assert people == []
    again = stack.texts(me, "hello")  # a stranger again: nothing remembered, consent asked anew
    # (The chat itself is cleared too, so the bot introduces itself again.)
    assert "may I ask you a couple of quick questions" in again[-1]
    assert not any(line.startswith("Welcome back") for line in again)


def test_an_oversized_rest_body_is_413(stack: Stack) -> None:
    body = json.dumps({"sender": shopper(), "message": "x" * (70 * 1024)}).encode()
    status, _ = stack.rest(None, raw=body)
    assert status == 413


def test_a_chat_widgets_opening_payload_starts_the_conversation_and_nothing_else(
    stack: Stack,
) -> None:
    me = shopper()
    opened = stack.texts(me, "/greet")  # rasa-webchat's default initPayload
    assert opened[0].startswith("Hi! I'm Calmly's assistant, a bot.")
    assert "may I ask you a couple of quick questions" in opened[-1]
    refused = "I can only read plain messages, not commands. Just tell me in your own words."
    assert stack.texts(me, "/affirm") == [refused]
    assert stack.texts(me, '/greet{"channel": "email"}') == [refused]
    assert person_of(stack, me)["consents"]["ledger"] == []
