"""Linking a shopper's channel accounts with a one-time code, and unlinking them again.

"Link my accounts" on one channel gives a code of two groups of four symbols
(6.47e11 possible codes; single use, valid for 10 minutes); typing it on another
channel joins the two people into one (the code's issuer survives). Wrong codes are
counted per chat, per source address and overall, in a sliding hour that a success
never resets (`LinkLimits`); docs/security.md ("Account linking") has the arithmetic.
The chat that asked for the code is told when it is used and can undo the link there.
Nothing is ever merged on unverified data such as names or e-mail addresses.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from bot.domain.linking import code_hash, display_code, merged_questions, new_code
from bot.domain.model import Identity, Person, QuestionRecord, QuestionStatus
from bot.domain.pseudonyms import pseudonym
from bot.domain.questions import QuestionBank
from bot.services.orders import SHOP_CHANNEL
from bot.store.ports import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
JOIN_UNDO_DAYS = 7
"""How long the issuer can undo a link from the notice (retention forgets it after)."""


@dataclass(frozen=True)
class LinkLimits:
    """Wrong codes accepted within `window` before redeeming pauses (never reset by a success)."""

    per_chat: int = 5
    per_source: int = 20
    overall: int = 1000
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class LinkNotice:
    """Tell the chat that asked for a code that it was used (it can undo the join)."""

    issuer: Identity
    join_id: int
    joined_channel: str


@dataclass(frozen=True)
class LinkResult:
    """What happened, in the shop's words, and whom to tell."""

    kind: str
    messages: list[str]
    notice: LinkNotice | None = None


class AttachOutcome(enum.Enum):
    """What a shop-vouched identity did to a chat."""

    JOINED = "joined"
    ATTACHED = "attached"
    ALREADY = "already"
    CONFLICT = "conflict"
    """The chat belongs to another shop customer: nothing was changed."""


CHANNEL_NAMES = {"socketio": "web chat", "telegram": "Telegram", "slack": "Slack", "rest": "web"}


class LinkingService:
    """Issue codes, redeem them (merge), undo a join, unlink (split), attach shop customers."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        bank: QuestionBank,
        clock: Callable[[], datetime],
        *,
        key: str,
        limits: LinkLimits = LinkLimits(),
        make_code: Callable[[], str] = new_code,
    ) -> None:
        self._uow_factory = uow_factory
        self._bank = bank
        self._clock = clock
        self._key = key
        self._limits = limits
        self._make_code = make_code

    def issue_code(self, identity: Identity) -> LinkResult:
        """A fresh code for the person behind `identity` (earlier unused codes stop working)."""
        at = self._clock()
        code = self._make_code()
        with self._uow_factory() as uow:
            person = uow.profiles.get_or_create(identity=identity, at=at)
            uow.links.add_code(
                person_id=person.id,
                code_hash=code_hash(code),
                issuer=identity,
                created_at=at,
                expires_at=at + CODE_TTL,
            )
            uow.commit()
        text = self._bank.message("link_code", code=display_code(code))
        return LinkResult("code_issued", [text])

    def _paused(self, uow: UnitOfWork, chat_key: str, source_key: str | None, at: datetime) -> str:
        """The message key when redeeming is paused for this chat or source, else ""."""
        since = at - self._limits.window
        if uow.links.failures_since(since=since, chat_key=chat_key) >= self._limits.per_chat:
            return "link_locked"
        if (
            source_key is not None
            and uow.links.failures_since(since=since, source_key=source_key)
            >= self._limits.per_source
        ):
            return "link_paused"
        if uow.links.failures_since(since=since) >= self._limits.overall:
            logger.warning("linking paused: too many wrong codes in the last hour, overall")
            return "link_paused"
        return ""

    def redeem(self, identity: Identity, code: str, *, source: str | None = None) -> LinkResult:
        """Join the person behind `identity` to the one who asked for `code`.

        `source` is the pseudonym of the address the message came from, when the channel
        knows one (the web chat, REST); wrong codes are counted per source too.
        """
        at = self._clock()
        chat_key = pseudonym(self._key, f"link-chat\n{identity}")
        source_key = pseudonym(self._key, f"link-source\n{source}") if source else None
        with self._uow_factory() as uow:
            paused = self._paused(uow, chat_key, source_key, at)
            if paused:
                return self._result("locked", paused)
            claimed = uow.links.claim_code(code_hash=code_hash(code), at=at)
            issuer = uow.profiles.get(person_id=claimed.person_id) if claimed else None
            if claimed is None or issuer is None:
                uow.links.add_failure(chat_key=chat_key, source_key=source_key, at=at)
                failures = uow.links.failures_since(
                    since=at - self._limits.window, chat_key=chat_key
                )
                uow.commit()
                left = self._limits.per_chat - failures
                if left <= 0:
                    return self._result("locked", "link_locked")
                return self._result("wrong_code", "link_wrong_code", tries=left)
            redeemer = uow.profiles.get_or_create(identity=identity, at=at)
            if redeemer.id == issuer.id:
                uow.commit()
                return self._result("already_linked", "link_already")
            joined = list(redeemer.identities)
            self._merge(uow, survivor=issuer, absorbed=redeemer, via=identity, at=at)
            join_id = uow.links.add_join(person_id=issuer.id, identities=joined, at=at)
            uow.commit()
        notice = None
        if claimed.issuer is not None and claimed.issuer not in joined:
            notice = LinkNotice(claimed.issuer, join_id, identity.channel)
        return LinkResult("linked", [self._bank.message("link_done")], notice)

    def notice_text(self, notice: LinkNotice) -> str:
        """What the issuing chat is told when its code was used."""
        channel = CHANNEL_NAMES.get(notice.joined_channel, notice.joined_channel)
        return self._bank.message("link_notice", channel=channel)

    def undo(self, identity: Identity, join_id: int) -> LinkResult:
        """From the issuing chat: split off the identities join `join_id` brought in."""
        at = self._clock()
        with self._uow_factory() as uow:
            person = uow.profiles.find(identity=identity)
            found = uow.links.join(join_id=join_id)
            if person is None or found is None or found[0] != person.id:
                return self._result("undo_gone", "link_undo_gone")
            joined = [i for i in found[1] if i in person.identities and i != identity]
            uow.links.delete_join(join_id=join_id)
            if not joined:
                uow.commit()
                return self._result("undo_gone", "link_undo_gone")
            self._split(uow, person, joined, at)
            uow.commit()
        channel = CHANNEL_NAMES.get(joined[0].channel, joined[0].channel)
        return self._result("undone", "link_undone", channel=channel)

    def keep(self, join_id: int) -> LinkResult:
        """From the issuing chat: "yes, that was me" (the join cannot be undone any more)."""
        with self._uow_factory() as uow:
            uow.links.delete_join(join_id=join_id)
            uow.commit()
        return self._result("kept", "link_kept")

    def attach_verified(self, identity: Identity, verified: Identity) -> AttachOutcome:
        """Join `identity` to the person holding `verified` (an identity the shop vouched for).

        A chat whose person already holds another shop identity is left as it is
        (CONFLICT): two shop customers are never merged by a shared browser.
        """
        at = self._clock()
        with self._uow_factory() as uow:
            chat = uow.profiles.get_or_create(identity=identity, at=at)
            owner = uow.profiles.find(identity=verified)
            if owner is not None and owner.id == chat.id:
                return AttachOutcome.ALREADY
            if any(i.channel == SHOP_CHANNEL and i != verified for i in chat.identities):
                return AttachOutcome.CONFLICT
            if owner is None:
                owner = uow.profiles.get_or_create(identity=verified, at=at)
                outcome = AttachOutcome.ATTACHED
            else:
                outcome = AttachOutcome.JOINED
            self._merge(uow, survivor=owner, absorbed=chat, via=identity, at=at)
            uow.commit()
        return outcome

    def unlink(self, identity: Identity) -> LinkResult:
        """Give `identity` a person of its own again, with what was recorded through its channel."""
        at = self._clock()
        with self._uow_factory() as uow:
            person = uow.profiles.find(identity=identity)
            if person is None or len(person.identities) < 2:
                return self._result("not_linked", "unlink_nothing")
            self._split(uow, person, [identity], at)
            uow.commit()
        return self._result("unlinked", "unlink_done")

    def _result(self, kind: str, key: str, **values: object) -> LinkResult:
        return LinkResult(kind, [self._bank.message(key, **values)])

    def _keys(self, identities: list[Identity]) -> list[str]:
        return [pseudonym(self._key, f"identity\n{i}") for i in identities]

    def _merge(
        self, uow: UnitOfWork, *, survivor: Person, absorbed: Person, via: Identity, at: datetime
    ) -> None:
        profiles = uow.profiles
        for other in absorbed.identities:
            profiles.move_identity(identity=other, to_person_id=survivor.id)
        profiles.move_records(from_person_id=absorbed.id, to_person_id=survivor.id)
        questions = merged_questions(survivor.questions, absorbed.questions)
        profiles.replace_questions(person_id=survivor.id, records=questions)
        profiles.recompute_supersession(person_id=survivor.id)
        profiles.delete(person_id=absorbed.id)
        details = {
            "identities": len(absorbed.identities),
            "identity_keys": self._keys(absorbed.identities),
            "confirmed_via": via.channel,
        }
        uow.audit.add(kind="link", person_id=survivor.id, details=details, at=at)

    def _split(
        self, uow: UnitOfWork, person: Person, leaving: list[Identity], at: datetime
    ) -> None:
        profiles = uow.profiles
        new_id = profiles.create_empty(at=at)
        for identity in leaving:
            profiles.move_identity(identity=identity, to_person_id=new_id)
        remaining_channels = {i.channel for i in person.identities if i not in leaving}
        for channel in sorted({i.channel for i in leaving} - remaining_channels):
            profiles.move_records(from_person_id=person.id, to_person_id=new_id, channel=channel)
        profiles.recompute_supersession(person_id=person.id)
        profiles.recompute_supersession(person_id=new_id)
        for person_id in (person.id, new_id):
            moved = profiles.get(person_id=person_id)
            if moved is not None:
                profiles.replace_questions(
                    person_id=person_id, records=_answered_only_with_values(moved, person)
                )
        details = {"identities": len(leaving), "identity_keys": self._keys(leaving)}
        uow.audit.add(kind="unlink", person_id=person.id, details=details, at=at)
        uow.audit.add(kind="unlink", person_id=new_id, details=details, at=at)


def _answered_only_with_values(side: Person, before: Person) -> dict[str, QuestionRecord]:
    """Question states after a split: "answered" only where this side kept an answer."""
    attributes = {v.attribute for v in side.values}
    records: dict[str, QuestionRecord] = {}
    for question_id, record in before.questions.items():
        if record.status is QuestionStatus.ANSWERED:
            if question_id in attributes:
                records[question_id] = record
        elif side.id == before.id:
            records[question_id] = record
    return records
