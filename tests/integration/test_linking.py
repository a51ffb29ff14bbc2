"""Linking and unlinking accounts, on every store backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.domain.linking import code_in
from bot.domain.model import PROFILING, ConsentStatus, Identity, Person, QuestionStatus
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.conversation import ConversationService, ProfilingPolicy
from bot.services.interpret import Mention
from bot.services.linking import LinkingService
from bot.services.turn import Incoming, SessionState
from bot.store.ports import UnitOfWorkFactory
from tests.conftest import Clock

WEB = Identity("socketio", "a" * 32)
TELEGRAM = Identity("telegram", "4242")
SLACK = Identity("slack", "U777")


class Codes:
    """Predictable codes for tests: 111111, 222222, ..."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return str(self.n) * 6


@pytest.fixture
def linking(uow_factory: UnitOfWorkFactory, bank: QuestionBank, clock: Clock) -> LinkingService:
    return LinkingService(uow_factory, bank, clock, make_code=Codes())


@pytest.fixture
def conversation(
    uow_factory: UnitOfWorkFactory,
    bank: QuestionBank,
    vocabulary: Vocabulary,
    clock: Clock,
    linking: LinkingService,
) -> ConversationService:
    policy = ProfilingPolicy(questions_per_session=3, shop_name="Calmly")
    return ConversationService(uow_factory, bank, vocabulary, policy, clock, linking)


def person(uow_factory: UnitOfWorkFactory, identity: Identity) -> Person:
    with uow_factory() as uow:
        found = uow.profiles.find(identity=identity)
    assert found is not None
    return found


def talk(
    service: ConversationService,
    find: Callable[[str], list[Mention]],
    identity: Identity,
    lines: list[tuple[str, str]],
    state: SessionState | None = None,
) -> tuple[list[str], SessionState]:
    state = state or SessionState()
    said: list[str] = []
    for n, (intent, text) in enumerate(lines):
        incoming = Incoming(identity, intent, text, find(text), f"{identity.channel}-{n}")
        use_case = service.welcome if intent == "greet" else service.reply
        turn = use_case(incoming, state)
        state = turn.state
        said.extend(m.text for m in turn.messages)
    return said, state


def test_codes_are_read_only_when_the_message_is_just_a_code() -> None:
    assert code_in("482913") == "482913"
    assert code_in(" 482 913 ") == "482913"
    assert code_in("link 482-913") == "482913"
    assert code_in("my code is 482913.") == "482913"
    assert code_in("I was born in 1982, 482913") is None
    assert code_in("12345") is None


def test_a_code_links_two_channels_into_one_person_with_an_audit_record(
    uow_factory: UnitOfWorkFactory, linking: LinkingService
) -> None:
    issued = linking.issue_code(TELEGRAM)
    assert issued.kind == "code_issued" and "111 111" in issued.messages[0]
    result = linking.redeem(WEB, "111111")
    assert result.kind == "linked"
    joined = person(uow_factory, WEB)
    assert joined.id == person(uow_factory, TELEGRAM).id
    assert set(joined.identities) == {WEB, TELEGRAM}
    with uow_factory() as uow:
        assert len(uow.profiles.list_ids()) == 1
        audit = uow.links.audit_for(person_id=joined.id)
    assert [e["kind"] for e in audit] == ["link"]
    assert audit[0]["details"]["identities"] == [str(WEB)]


def test_a_code_works_once_and_expires_after_ten_minutes(
    linking: LinkingService, clock: Clock
) -> None:
    linking.issue_code(TELEGRAM)
    assert linking.redeem(WEB, "111111").kind == "linked"
    assert linking.redeem(SLACK, "111111").kind == "wrong_code"
    linking.issue_code(TELEGRAM)
    clock.advance(minutes=10, seconds=1)
    assert linking.redeem(SLACK, "222222").kind == "wrong_code"


def test_a_new_code_replaces_the_old_one(linking: LinkingService) -> None:
    linking.issue_code(TELEGRAM)
    linking.issue_code(TELEGRAM)
    assert linking.redeem(WEB, "111111").kind == "wrong_code"
    assert linking.redeem(WEB, "222222").kind == "linked"


def test_five_wrong_codes_lock_redemption_for_that_chat(
    linking: LinkingService, clock: Clock
) -> None:
    linking.issue_code(TELEGRAM)
    kinds = [linking.redeem(WEB, f"90000{n}").kind for n in range(5)]
    assert kinds == ["wrong_code"] * 4 + ["locked"]
    assert linking.redeem(WEB, "111111").kind == "locked"  # even the right one
    assert linking.redeem(SLACK, "111111").kind == "linked"  # another chat is not locked
    clock.advance(minutes=11)
    linking.issue_code(TELEGRAM)
    assert linking.redeem(WEB, "222222").kind == "linked"


def test_merge_keeps_both_histories_and_the_newer_stated_value_wins(
    uow_factory: UnitOfWorkFactory,
    conversation: ConversationService,
    find_mentions: Callable[[str], list[Mention]],
    clock: Clock,
) -> None:
    consent = [("greet", "hi"), ("affirm", "Yes, go ahead")]
    talk(
        conversation,
        find_mentions,
        TELEGRAM,
        [*consent, ("inform", "email"), ("deny", "no thanks"), ("inform", "daily")],
    )
    clock.advance(hours=1)
    talk(
        conversation,
        find_mentions,
        WEB,
        [*consent, ("inform", "sms"), ("deny", "no thanks"), ("skip", "skip")],
    )
    clock.advance(minutes=1)
    issued = conversation.link(
        Incoming(TELEGRAM, "link_accounts", "link my accounts", [], "t"), SessionState()
    )
    code = issued.messages[0].text.split("code: ")[1][:7].replace(" ", "")
    said, _ = talk(conversation, find_mentions, WEB, [("inform", code)])
    assert said == [
        "Done: your accounts are linked. Your answers now count on both, "
        "so I won't ask you anything twice."
    ]
    joined = person(uow_factory, WEB)
    assert [v.value for v in joined.history("contact_channels")] == [
        {"selected": ["email"], "excluded": []},
        {"selected": ["sms"], "excluded": []},
    ]
    assert joined.current_values()["contact_channels"].value["selected"] == ["sms"]
    assert joined.current_values()["contact_frequency"].value == "daily"
    # Telegram answered frequency; the web declined it: either way it is settled.
    assert joined.question_status("contact_frequency") in (
        QuestionStatus.ANSWERED,
        QuestionStatus.DECLINED,
    )
    consent_now = joined.consent(PROFILING)
    assert consent_now is not None and consent_now.status is ConsentStatus.GRANTED


def test_after_linking_nothing_answered_elsewhere_is_asked_again(
    conversation: ConversationService,
    find_mentions: Callable[[str], list[Mention]],
) -> None:
    consent = [("greet", "hi"), ("affirm", "Yes, go ahead")]
    talk(
        conversation,
        find_mentions,
        TELEGRAM,
        [*consent, ("inform", "email"), ("deny", "no thanks"), ("inform", "weekly")],
    )
    issued = conversation.link(
        Incoming(TELEGRAM, "link_accounts", "link my accounts", [], "t9"), SessionState()
    )
    code = issued.messages[0].text.split("code: ")[1][:7].replace(" ", "")
    talk(conversation, find_mentions, WEB, [("inform", code)])
    said, state = talk(conversation, find_mentions, WEB, [("greet", "hello")])
    assert said[0] == "Welcome back! I'm Calmly's assistant bot."
    assert "weekly" in said[1]
    assert state.pending == "motivations"


def test_unlink_splits_by_the_channel_things_were_said_on(
    uow_factory: UnitOfWorkFactory,
    conversation: ConversationService,
    linking: LinkingService,
    find_mentions: Callable[[str], list[Mention]],
) -> None:
    consent = [("greet", "hi"), ("affirm", "Yes, go ahead")]
    talk(conversation, find_mentions, TELEGRAM, [*consent, ("inform", "email")])
    linking.issue_code(TELEGRAM)
    assert linking.redeem(WEB, "111111").kind == "linked"
    assert linking.unlink(WEB).kind == "unlinked"
    assert linking.unlink(WEB).kind == "not_linked"
    web, telegram = person(uow_factory, WEB), person(uow_factory, TELEGRAM)
    assert web.id != telegram.id
    assert web.identities == [WEB] and telegram.identities == [TELEGRAM]
    assert "contact_channels" in telegram.current_values()
    assert web.values == [] and web.question_status("contact_channels") is None


def test_typing_a_code_mid_question_links_and_keeps_the_question_pending(
    conversation: ConversationService,
    find_mentions: Callable[[str], list[Mention]],
    linking: LinkingService,
) -> None:
    _, state = talk(conversation, find_mentions, WEB, [("greet", "hi"), ("affirm", "yes")])
    assert state.pending == "contact_channels"
    linking.issue_code(TELEGRAM)
    said, state = talk(conversation, find_mentions, WEB, [("inform", "111 111")], state)
    assert said[0].startswith("Done: your accounts are linked.")
    assert state.pending == "contact_channels"


def test_expired_codes_are_reported_with_tries_left(linking: LinkingService, clock: Clock) -> None:
    linking.issue_code(TELEGRAM)
    clock.advance(minutes=30)
    result = linking.redeem(WEB, "111111")
    assert result.kind == "wrong_code"
    assert "4 more time(s)" in result.messages[0]
