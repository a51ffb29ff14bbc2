"""The profiling conversation, driven through the service with the in-memory store."""

from __future__ import annotations

from typing import Callable

import pytest

from bot.dialogue import ConversationService
from bot.dialogue.consent import CONSENT
from bot.dialogue.turn import Incoming, SessionState, Turn
from bot.domain.interpret import Mention
from bot.domain.model import PROFILING, ConsentStatus, Identity, Person, QuestionStatus
from bot.domain.questions import QuestionBank, Vocabulary
from bot.store.memory import MemoryStore
from tests.builders import conversation
from tests.conftest import Clock

KEY = "pseudonym-key-for-tests-0123456789"

SHOPPER = Identity("rest", "shopper-1")


class Chat:
    """One shopper talking to the service, session by session."""

    def __init__(
        self,
        service: ConversationService,
        store: MemoryStore,
        mentions: Callable[[str], list[Mention]],
        identity: Identity = SHOPPER,
    ) -> None:
        self.service = service
        self.store = store
        self.mentions = mentions
        self.identity = identity
        self.state = SessionState()
        self.count = 0

    def new_session(self) -> None:
        self.state = SessionState()

    def _incoming(self, intent: str, text: str) -> Incoming:
        self.count += 1
        return Incoming(self.identity, intent, text, self.mentions(text), f"m{self.count}")

    def welcome(self, text: str = "hi") -> list[str]:
        return self._apply(self.service.welcome(self._incoming("greet", text), self.state))

    def say(self, intent: str, text: str) -> list[str]:
        return self._apply(self.service.reply(self._incoming(intent, text), self.state))

    def stop(self, text: str = "stop") -> list[str]:
        return self._apply(self.service.opt_out(self._incoming("opt_out", text), self.state))

    def _apply(self, turn: Turn) -> list[str]:
        self.state = turn.state
        self.last_turn = turn
        return [m.text for m in turn.messages]

    def person(self) -> Person:
        with self.store() as uow:
            person = uow.profiles.find(identity=self.identity)
        assert person is not None
        return person


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def make_chat(
    store: MemoryStore,
    bank: QuestionBank,
    vocabulary: Vocabulary,
    clock: Clock,
    find_mentions: Callable[[str], list[Mention]],
) -> Callable[..., Chat]:
    def make(budget: int = 3, identity: Identity = SHOPPER) -> Chat:
        service = conversation(store, bank, vocabulary, clock, questions_per_session=budget)
        return Chat(service, store, find_mentions, identity)

    return make


@pytest.fixture
def chat(make_chat: Callable[..., Chat]) -> Chat:
    return make_chat()


def consented(chat: Chat) -> list[str]:
    chat.welcome()
    return chat.say("affirm", "Yes, go ahead")


def value_of(chat: Chat, attribute: str) -> object | None:
    current = chat.person().current_values().get(attribute)
    return current.value if current else None


def test_greeting_says_it_is_a_bot_and_asks_permission_first(chat: Chat) -> None:
    said = chat.welcome()
    assert "Calmly's assistant, a bot" in said[0]
    assert "may I ask you a couple of quick questions" in said[-1]
    buttons = chat.last_turn.messages[-1].buttons
    assert [b.title for b in buttons] == ["Yes, go ahead", "No thanks"]
    assert chat.state.pending == CONSENT
    assert chat.person().consent(PROFILING) is None


def test_yes_records_consent_and_asks_the_most_useful_question(chat: Chat) -> None:
    said = consented(chat)
    assert said[-1].startswith("How would you like to hear from us?")
    consent = chat.person().consent(PROFILING)
    assert consent is not None and consent.status is ConsentStatus.GRANTED
    assert consent.message_ref == "m2" and consent.policy_version
    assert chat.state.pending == "contact_channels"
    assert "Skip" in [b.title for b in chat.last_turn.messages[-1].buttons]


def test_negatives_count_and_are_confirmed_in_plain_words(chat: Chat) -> None:
    consented(chat)
    said = chat.say("inform", "text me, email is too much")
    assert said[0] == "Got it: SMS, not email."
    assert value_of(chat, "contact_channels") == {"selected": ["sms"], "excluded": ["email"]}
    stored = chat.person().current_values()["contact_channels"]
    assert stored.provenance.value == "stated" and stored.confidence == 1.0
    assert stored.channel == "rest" and stored.message_ref == "m3"
    # A preference is not a consent: marketing by SMS is asked about separately.
    assert said[1].startswith("One more thing, separate from your preference")
    assert "offers and news by SMS?" in said[1]
    said = chat.say("deny", "no thanks")
    assert said[0] == "No problem: no offers or news by SMS."
    assert said[1].startswith("How often would you like to hear from us")


def test_skip_declines_for_good(chat: Chat) -> None:
    consented(chat)
    said = chat.say("skip", "rather not say")
    assert said[0] == "No problem, we'll skip that one."
    assert chat.person().question_status("contact_channels") is QuestionStatus.DECLINED
    assert value_of(chat, "contact_channels") is None
    chat.new_session()
    chat.welcome()
    assert chat.state.pending != "contact_channels"


def test_why_explains_then_asks_again_without_using_budget(chat: Chat) -> None:
    consented(chat)
    said = chat.say("why", "why do you ask?")
    assert said[0] == "So we only contact you in the ways you actually want."
    assert said[1].startswith("How would you like to hear from us?")
    assert chat.state.asked == ("contact_channels",)
    assert chat.person().questions["contact_channels"].why_asked == 1


def test_ambiguous_answer_is_clarified_not_guessed(chat: Chat) -> None:
    consented(chat)
    chat.say("inform", "by post")
    said = chat.say("inform", "often I guess")
    assert said == ["Just to be sure: did you mean daily or weekly?"]
    assert value_of(chat, "contact_frequency") is None
    said = chat.say("inform", "weekly")
    assert said[0] == "Got it: weekly."
    assert value_of(chat, "contact_frequency") == "weekly"


def test_partly_ambiguous_multi_answer_keeps_the_clear_part(chat: Chat) -> None:
    consented(chat)
    said = chat.say("inform", "email, or message me")
    assert said == ["Just to be sure: did you mean SMS or WhatsApp?"]
    said = chat.say("inform", "WhatsApp")
    assert said[0] == "Got it: email and WhatsApp."
    assert value_of(chat, "contact_channels") == {
        "selected": ["email", "whatsapp"],
        "excluded": [],
    }


def test_second_unclear_answer_moves_on_and_stores_nothing(chat: Chat) -> None:
    consented(chat)
    said = chat.say("nlu_fallback", "🤷")
    assert said[0].startswith("Sorry, I'm not sure I understood.")
    said = chat.say("nlu_fallback", "hmm dunno")
    assert said[0] == "No worries, let's move on."
    assert value_of(chat, "contact_channels") is None
    assert chat.person().question_status("contact_channels") is QuestionStatus.ASKED
    assert chat.state.pending == "contact_frequency"


def test_correction_keeps_history_and_returns_to_the_pending_question(chat: Chat) -> None:
    consented(chat)
    chat.say("inform", "by post")
    chat.say("inform", "daily")
    assert chat.state.pending == "motivations"
    said = chat.say("inform", "no, weekly")
    assert said[0] == "Thanks, I've updated that: weekly."
    assert said[1].startswith("What brings you to us?")
    history = chat.person().history("contact_frequency")
    assert [v.value for v in history] == ["daily", "weekly"]
    assert history[0].superseded_at is not None and history[1].is_current


def test_at_most_the_budget_of_questions_per_session(make_chat: Callable[..., Chat]) -> None:
    chat = make_chat(budget=2)
    consented(chat)
    chat.say("inform", "by post")
    said = chat.say("inform", "weekly")
    assert said == ["Got it: weekly.", "That's all for now. Thanks for your answers!"]
    assert chat.state.pending is None and len(chat.state.asked) == 2


def test_opt_out_mid_question_stops_at_once_and_for_later_sessions(chat: Chat) -> None:
    consented(chat)
    said = chat.stop("stop, don't ask me anything")
    assert said == [
        "Done: I've stopped asking questions and won't profile you any further. "
        "You can still chat with me whenever you like."
    ]
    assert chat.state.pending is None
    consent = chat.person().consent(PROFILING)
    assert consent is not None and consent.status is ConsentStatus.WITHDRAWN
    chat.new_session()
    said = chat.welcome()
    assert chat.state.pending is None
    assert not any("quick questions" in s for s in said)


def test_refusal_is_respected_for_the_configured_period(chat: Chat, clock: Clock) -> None:
    chat.welcome()
    said = chat.say("deny", "No thanks")
    assert said == ["No problem, I won't ask. I'm still here if you need anything."]
    assert chat.person().consent(PROFILING).status is ConsentStatus.DENIED  # type: ignore[union-attr]
    clock.advance(days=29)
    chat.new_session()
    chat.welcome()
    assert chat.state.pending is None
    clock.advance(days=2)
    chat.new_session()
    chat.welcome()
    assert chat.state.pending == CONSENT


def test_returning_shopper_hears_what_is_known_and_is_never_asked_again(chat: Chat) -> None:
    consented(chat)
    chat.say("inform", "text me, email is too much")
    chat.say("deny", "no")  # no marketing by SMS
    chat.say("skip", "skip")
    chat.new_session()
    said = chat.welcome()
    assert said[0] == "Welcome back! I'm Calmly's assistant bot."
    assert said[1] == "Here's what I remember: you'd like to hear from us by SMS, not email."
    assert said[2].startswith("What brings you to us?")
    assert chat.state.asked == ("motivations",)


def test_consent_is_never_granted_by_an_answer_or_unclear_text(chat: Chat) -> None:
    chat.welcome()
    said = chat.say("inform", "email")
    assert said[0].startswith("Sorry, I didn't catch that.")
    said = chat.say("nlu_fallback", "asdf")
    assert said == ["No worries, let's leave it for now."]
    assert chat.person().consent(PROFILING) is None
    assert chat.person().values == []


def test_own_words_are_kept_verbatim_as_other(chat: Chat) -> None:
    consented(chat)
    chat.say("skip", "skip")
    chat.say("skip", "skip")
    said = chat.say("inform", "<b>sleeping</b> better after night shifts")
    assert chat.state.last_answered == "motivations"
    assert value_of(chat, "motivations") == {
        "selected": ["other"],
        "other_text": "<b>sleeping</b> better after night shifts",
    }
    assert said[0].startswith('Got it: "<b>sleeping</b> better after night shifts"')


def test_nothing_is_asked_once_everything_is_settled(make_chat: Callable[..., Chat]) -> None:
    chat = make_chat(budget=10)
    consented(chat)
    for answer in ("by post", "weekly", "stress", "the app"):
        chat.say("inform", answer)
    said = chat.say("inform", "evenings")
    assert said == ["Got it: in the evening.", "That's everything I wanted to ask. Thanks!"]
    chat.new_session()
    said = chat.welcome()
    assert chat.state.pending is None and said[-1].startswith("I'm here if you need anything")


@pytest.mark.parametrize("intent", ["affirm", "deny", "skip"])
def test_an_emoji_alone_decides_nothing(chat: Chat, intent: str) -> None:
    chat.welcome()
    said = chat.say(intent, "👍")
    assert said[0].startswith("Sorry, I didn't catch that.")
    assert chat.person().consent(PROFILING) is None
    chat.say("affirm", "yes 👍")
    assert chat.person().consent(PROFILING).status is ConsentStatus.GRANTED  # type: ignore[union-attr]


def test_what_do_you_know_lists_values_sources_and_consent(chat: Chat) -> None:
    said = [
        m.text
        for m in chat.service.what_we_know(chat._incoming("show_profile", "?"), chat.state).messages
    ]
    assert said == ["I don't know anything about you yet, apart from this chat."]
    consented(chat)
    chat.say("inform", "text me, email is too much")
    chat.say("affirm", "yes")  # marketing by SMS
    chat.say("skip", "skip")
    turn = chat.service.what_we_know(
        chat._incoming("show_profile", "what do you know?"), chat.state
    )
    summary = turn.messages[0].text.splitlines()
    assert summary[0] == "Here's everything I know about you, and where it came from:"
    assert summary[1] == (
        "- contact channels: SMS, not email (you told me on the web chat, 23 Nov 2026)"
    )
    assert "- questions you skipped (never asked again): contact_frequency" in summary
    assert "- profiling: granted (23 Nov 2026)" in summary
    assert "- sms marketing: granted (23 Nov 2026)" in summary
    assert turn.messages[1].text.startswith('If something is wrong, say "change my ..."')
    assert turn.messages[-1].text.startswith("What brings you to us?")  # pending, asked again


@pytest.mark.parametrize("word", ["stopp", "Arrête !", "arrete", "STOP.", "unsubscribe"])
def test_opt_out_words_stop_profiling_whatever_nlu_thought(chat: Chat, word: str) -> None:
    consented(chat)
    said = chat.say("nlu_fallback", word)
    assert said[0].startswith("Done: I've stopped asking questions")
    consent = chat.person().consent(PROFILING)
    assert consent is not None and consent.status is ConsentStatus.WITHDRAWN
    assert chat.state.pending is None


QUIET = "just want five quiet minutes a day away from everything"


def test_an_opt_out_only_the_model_saw_is_confirmed_before_anything_changes(chat: Chat) -> None:
    consented(chat)
    said = chat.stop(QUIET)
    assert said[0].startswith("Just to be sure I understood: shall I stop asking you questions")
    consent = chat.person().consent(PROFILING)
    assert consent is not None and consent.status is ConsentStatus.GRANTED
    said = chat.say("deny", "no, I meant that's why I'm here")
    assert said[0] == "Alright, nothing changes. Let's carry on."
    assert said[1].startswith("How would you like to hear from us?")  # the open question
    assert chat.state.pending == "contact_channels"
    consent = chat.person().consent(PROFILING)
    assert consent is not None and consent.status is ConsentStatus.GRANTED


def test_a_confirmed_opt_out_withdraws_as_stop_does(chat: Chat) -> None:
    consented(chat)
    chat.stop(QUIET)
    said = chat.say("affirm", "yes")
    assert said[0].startswith("Done: I've stopped asking questions")
    assert chat.state.pending is None
    consent = chat.person().consent(PROFILING)
    assert consent is not None and consent.status is ConsentStatus.WITHDRAWN


def test_the_shops_own_stop_words_need_no_confirmation(chat: Chat) -> None:
    consented(chat)
    assert chat.stop("stop")[0].startswith("Done: I've stopped asking questions")
