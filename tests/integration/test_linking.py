"""Linking and unlinking accounts, on every store backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.dialogue import ConversationService
from bot.dialogue.linking import LINK_NOTICE
from bot.dialogue.turn import Incoming, SessionState
from bot.domain.interpret import Mention
from bot.domain.model import PROFILING, ConsentStatus, Identity, Person, QuestionStatus
from bot.domain.questions import QuestionBank, Vocabulary
from bot.services.linking import AttachOutcome, LinkingService, LinkLimits
from bot.store.ports import UnitOfWorkFactory
from tests.builders import conversation as build_conversation
from tests.conftest import Clock

WEB = Identity("socketio", "a" * 32)
TELEGRAM = Identity("telegram", "4242")
SLACK = Identity("slack", "U777")


KEY = "pseudonym-key-for-tests-0123456789"
SHOP_A, SHOP_B = Identity("shop", "customer-a"), Identity("shop", "customer-b")


def code(n: int) -> str:
    """The n-th predictable code of `Codes`: K1M1P1Q1, K2M2P2Q2, ..."""
    return f"K{n}M{n}P{n}Q{n}"


class Codes:
    """Predictable codes for tests (each group holds a digit and a letter, as real ones)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return code(self.n)


@pytest.fixture
def linking(uow_factory: UnitOfWorkFactory, bank: QuestionBank, clock: Clock) -> LinkingService:
    return LinkingService(uow_factory, bank, clock, key=KEY, make_code=Codes())


@pytest.fixture
def conversation(
    uow_factory: UnitOfWorkFactory,
    bank: QuestionBank,
    vocabulary: Vocabulary,
    clock: Clock,
    linking: LinkingService,
) -> ConversationService:
    return build_conversation(uow_factory, bank, vocabulary, clock, linking=linking)


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


def test_a_code_links_two_channels_into_one_person_with_an_audit_of_pseudonyms(
    uow_factory: UnitOfWorkFactory, linking: LinkingService
) -> None:
    issued = linking.issue_code(TELEGRAM)
    assert issued.kind == "code_issued" and "K1M1-P1Q1" in issued.messages[0]
    result = linking.redeem(WEB, code(1))
    assert result.kind == "linked"
    joined = person(uow_factory, WEB)
    assert joined.id == person(uow_factory, TELEGRAM).id
    assert set(joined.identities) == {WEB, TELEGRAM}
    with uow_factory() as uow:
        assert len(uow.profiles.list_ids()) == 1
        audit = uow.audit.events(person_id=joined.id)
    assert [e["kind"] for e in audit] == ["link"]
    details = audit[0]["details"]
    assert details["identities"] == 1 and len(details["identity_keys"]) == 1
    assert WEB.external_id not in str(audit)  # counts and pseudonyms only


def test_a_code_works_once_and_expires_after_ten_minutes(
    linking: LinkingService, clock: Clock
) -> None:
    linking.issue_code(TELEGRAM)
    assert linking.redeem(WEB, code(1)).kind == "linked"
    assert linking.redeem(SLACK, code(1)).kind == "wrong_code"
    linking.issue_code(TELEGRAM)
    clock.advance(minutes=10, seconds=1)
    assert linking.redeem(SLACK, code(2)).kind == "wrong_code"


def test_a_new_code_replaces_the_old_one(linking: LinkingService) -> None:
    linking.issue_code(TELEGRAM)
    linking.issue_code(TELEGRAM)
    assert linking.redeem(WEB, code(1)).kind == "wrong_code"
    assert linking.redeem(WEB, code(2)).kind == "linked"


def test_five_wrong_codes_pause_that_chat_for_an_hour(
    linking: LinkingService, clock: Clock
) -> None:
    linking.issue_code(TELEGRAM)
    kinds = [linking.redeem(WEB, f"Z{n}Z{n}Z{n}Z{n}").kind for n in range(5)]
    assert kinds == ["wrong_code"] * 4 + ["locked"]
    assert linking.redeem(WEB, code(1)).kind == "locked"  # even the right one
    assert linking.redeem(SLACK, code(1)).kind == "linked"  # another chat is not paused
    clock.advance(minutes=59)
    linking.issue_code(TELEGRAM)
    assert linking.redeem(WEB, code(2)).kind == "locked"
    clock.advance(minutes=2)
    assert linking.redeem(WEB, code(2)).kind == "linked"


def test_a_success_never_resets_the_count_of_wrong_codes(
    uow_factory: UnitOfWorkFactory, bank: QuestionBank, clock: Clock
) -> None:
    linking = LinkingService(uow_factory, bank, clock, key=KEY, make_code=Codes())
    for n in range(4):
        assert linking.redeem(WEB, f"Z{n}Z{n}Z{n}Z{n}").kind == "wrong_code"
    linking.issue_code(WEB)  # the guesser's own code, redeemed by its own other chat
    assert linking.redeem(SLACK, code(1)).kind == "linked"
    linking.issue_code(WEB)
    assert linking.redeem(WEB, code(2)).kind == "already_linked"
    assert linking.redeem(WEB, "Z8Z8Z8Z8").kind == "locked"  # the fifth wrong one


def test_wrong_codes_count_per_source_across_fresh_chats_and_overall(
    uow_factory: UnitOfWorkFactory, bank: QuestionBank, clock: Clock
) -> None:
    limits = LinkLimits(per_chat=5, per_source=3, overall=5)
    linking = LinkingService(uow_factory, bank, clock, key=KEY, limits=limits, make_code=Codes())
    chats = [Identity("rest", f"fresh-{n}") for n in range(8)]
    kinds = [linking.redeem(chat, "Z9Z9Z9Z9", source="attacker").kind for chat in chats[:4]]
    assert kinds == ["wrong_code"] * 3 + ["locked"]  # a new chat costs the source nothing
    linking.issue_code(TELEGRAM)
    assert linking.redeem(chats[4], code(1), source="attacker").kind == "locked"
    assert linking.redeem(chats[5], "Z9Z9Z9Z9", source="elsewhere").kind == "wrong_code"
    assert linking.redeem(chats[6], "Z9Z9Z9Z9", source="third").kind == "wrong_code"
    # Five wrong codes overall: linking pauses for everyone until the hour has passed.
    assert linking.redeem(chats[7], code(1), source="honest").kind == "locked"
    clock.advance(hours=1, seconds=1)
    linking.issue_code(TELEGRAM)
    assert linking.redeem(chats[7], code(2), source="honest").kind == "linked"


def test_the_issuing_chat_is_told_and_can_undo_the_link(
    uow_factory: UnitOfWorkFactory,
    conversation: ConversationService,
    find_mentions: Callable[[str], list[Mention]],
) -> None:
    consent = [("greet", "hi"), ("affirm", "Yes, go ahead")]
    talk(conversation, find_mentions, TELEGRAM, [*consent, ("inform", "email")])
    conversation.link(
        Incoming(TELEGRAM, "link_accounts", "link my accounts", [], "t"), SessionState()
    )
    turn = conversation.reply(
        Incoming(WEB, "link_accounts", f"link {code(1)}", [], "w"), SessionState()
    )
    assert turn.messages[0].text.startswith("Done: your accounts are linked.")
    (notice,) = turn.notices
    assert notice.identity == TELEGRAM and notice.pending == LINK_NOTICE
    assert "linked with a web chat conversation" in notice.message.text
    assert [b.title for b in notice.message.buttons] == ["Yes, that was me", "No, undo it"]
    # The Telegram chat answers the notice ("No, undo it" is its button).
    waiting = SessionState(pending=notice.pending, clarify=notice.clarify, greeted=True)
    undone = conversation.reply(Incoming(TELEGRAM, "deny", "No, undo it", [], "t2"), waiting)
    assert undone.messages[0].text.startswith(
        "Undone: that web chat conversation is no longer linked"
    )
    assert undone.state.pending is None
    web, telegram = person(uow_factory, WEB), person(uow_factory, TELEGRAM)
    assert web.id != telegram.id and web.identities == [WEB]
    assert web.values == [] and "contact_channels" in telegram.current_values()
    again = conversation.reply(Incoming(TELEGRAM, "deny", "No, undo it", [], "t3"), waiting)
    assert again.messages[0].text.startswith("That link has already been undone")


def test_yes_that_was_me_keeps_the_link(
    uow_factory: UnitOfWorkFactory, conversation: ConversationService, linking: LinkingService
) -> None:
    linking.issue_code(TELEGRAM)
    notice = linking.redeem(WEB, code(1)).notice
    assert notice is not None
    waiting = SessionState(pending=LINK_NOTICE, clarify={"join": notice.join_id}, greeted=True)
    kept = conversation.reply(Incoming(TELEGRAM, "affirm", "Yes, that was me", [], "t"), waiting)
    assert kept.messages[0].text == "Good: both stay linked."
    assert person(uow_factory, WEB).id == person(uow_factory, TELEGRAM).id
    assert linking.undo(TELEGRAM, notice.join_id).kind == "undo_gone"


def test_a_bare_code_is_redeemed_only_right_after_link_my_accounts(
    uow_factory: UnitOfWorkFactory,
    conversation: ConversationService,
    find_mentions: Callable[[str], list[Mention]],
    linking: LinkingService,
) -> None:
    _, state = talk(conversation, find_mentions, WEB, [("greet", "hi"), ("affirm", "yes")])
    assert state.pending == "contact_channels"
    linking.issue_code(TELEGRAM)
    said, state = talk(conversation, find_mentions, WEB, [("inform", "k1m1 p1q1")], state)
    assert said == [
        'If that\'s a link code from your other chat, type "link" followed by the code.'
    ]
    assert person(uow_factory, WEB).id != person(uow_factory, TELEGRAM).id
    assert state.pending == "contact_channels"  # the open question is still open
    asked = conversation.link(Incoming(WEB, "link_accounts", "link my accounts", [], "w"), state)
    said, _ = talk(conversation, find_mentions, WEB, [("inform", "K1M1-P1Q1")], asked.state)
    assert said[0].startswith("Done: your accounts are linked.")


def test_a_named_code_mid_question_links_and_keeps_the_question_pending(
    conversation: ConversationService,
    find_mentions: Callable[[str], list[Mention]],
    linking: LinkingService,
) -> None:
    _, state = talk(conversation, find_mentions, WEB, [("greet", "hi"), ("affirm", "yes")])
    linking.issue_code(TELEGRAM)
    said, state = talk(
        conversation, find_mentions, WEB, [("inform", "my code is K1M1-P1Q1")], state
    )
    assert said[0].startswith("Done: your accounts are linked.")
    assert state.pending == "contact_channels"


def test_a_chat_of_one_shop_customer_is_never_merged_into_another(
    uow_factory: UnitOfWorkFactory, linking: LinkingService
) -> None:
    assert linking.attach_verified(WEB, SHOP_A) is AttachOutcome.ATTACHED
    linking.attach_verified(Identity("socketio", "b" * 32), SHOP_B)
    assert linking.attach_verified(WEB, SHOP_A) is AttachOutcome.ALREADY
    assert linking.attach_verified(WEB, SHOP_B) is AttachOutcome.CONFLICT
    a, b = person(uow_factory, SHOP_A), person(uow_factory, SHOP_B)
    assert a.id != b.id and WEB in a.identities and WEB not in b.identities


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
    shown = issued.messages[0].text.split("code: ")[1][:9]
    said, _ = talk(conversation, find_mentions, WEB, [("link_accounts", f"link {shown}")])
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
    shown = issued.messages[0].text.split("code: ")[1][:9]
    talk(conversation, find_mentions, WEB, [("link_accounts", f"link {shown}")])
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
    assert linking.redeem(WEB, code(1)).kind == "linked"
    assert linking.unlink(WEB).kind == "unlinked"
    assert linking.unlink(WEB).kind == "not_linked"
    web, telegram = person(uow_factory, WEB), person(uow_factory, TELEGRAM)
    assert web.id != telegram.id
    assert web.identities == [WEB] and telegram.identities == [TELEGRAM]
    assert "contact_channels" in telegram.current_values()
    assert web.values == [] and web.question_status("contact_channels") is None


def test_expired_codes_are_reported_with_tries_left(linking: LinkingService, clock: Clock) -> None:
    linking.issue_code(TELEGRAM)
    clock.advance(minutes=30)
    result = linking.redeem(WEB, code(1))
    assert result.kind == "wrong_code"
    assert "4 more time(s) this hour" in result.messages[0]


def test_only_the_notices_own_answers_or_unlink_undo_a_link(
    uow_factory: UnitOfWorkFactory, conversation: ConversationService, linking: LinkingService
) -> None:
    linking.issue_code(TELEGRAM)
    notice = linking.redeem(WEB, code(1)).notice
    assert notice is not None
    waiting = SessionState(pending=LINK_NOTICE, clarify={"join": notice.join_id}, greeted=True)
    # A "no" to something else (NLU's deny) is not an answer to the notice.
    other = conversation.reply(Incoming(TELEGRAM, "deny", "no thanks", [], "t1"), waiting)
    assert other.state.pending != LINK_NOTICE
    assert person(uow_factory, WEB).id == person(uow_factory, TELEGRAM).id
    # "unlink" said to the notice undoes the join: the joined chat goes, Telegram stays.
    undone = conversation.unlink(Incoming(TELEGRAM, "unlink_accounts", "unlink", [], "t2"), waiting)
    assert undone.messages[0].text.startswith("Undone:")
    assert person(uow_factory, TELEGRAM).identities == [TELEGRAM]
    assert person(uow_factory, WEB).identities == [WEB]
