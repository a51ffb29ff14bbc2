"""Linking a shopper's channel accounts with a one-time code, and unlinking them again.

"Link my accounts" on one channel gives a six-digit code (single use, valid for 10
minutes); typing it on another channel joins the two people into one (the code's
issuer survives). Five wrong codes in 10 minutes pause redemption for that chat.
Nothing is ever merged on unverified data such as names or e-mail addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from bot.domain.linking import code_hash, display_code, merged_questions, new_code
from bot.domain.model import Identity, Person, QuestionRecord, QuestionStatus
from bot.domain.questions import QuestionBank
from bot.store.ports import UnitOfWork, UnitOfWorkFactory

CODE_TTL = timedelta(minutes=10)
MAX_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class LinkResult:
    """What happened, in the shop's words."""

    kind: str
    messages: list[str]


class LinkingService:
    """Issue codes, redeem them (merge), unlink (split)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        bank: QuestionBank,
        clock: Callable[[], datetime],
        make_code: Callable[[], str] = new_code,
    ) -> None:
        self._uow_factory = uow_factory
        self._bank = bank
        self._clock = clock
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
                created_at=at,
                expires_at=at + CODE_TTL,
            )
            uow.commit()
        text = self._bank.message("link_code", code=display_code(code))
        return LinkResult("code_issued", [text])

    def redeem(self, identity: Identity, code: str) -> LinkResult:
        """Join the person behind `identity` to the one who asked for `code`."""
        at = self._clock()
        with self._uow_factory() as uow:
            failures = uow.links.failures_since(identity=identity, since=at - LOCK_WINDOW)
            if failures >= MAX_FAILURES:
                return self._result("locked", "link_locked")
            issuer_id = uow.links.claim_code(code_hash=code_hash(code), at=at)
            issuer = uow.profiles.get(person_id=issuer_id) if issuer_id else None
            if issuer is None:
                uow.links.add_attempt(identity=identity, at=at, succeeded=False)
                uow.commit()
                left = MAX_FAILURES - failures - 1
                if left <= 0:
                    return self._result("locked", "link_locked")
                return self._result("wrong_code", "link_wrong_code", tries=left)
            redeemer = uow.profiles.get_or_create(identity=identity, at=at)
            uow.links.add_attempt(identity=identity, at=at, succeeded=True)
            if redeemer.id == issuer.id:
                uow.commit()
                return self._result("already_linked", "link_already")
            self._merge(uow, survivor=issuer, absorbed=redeemer, via=identity, at=at)
            uow.commit()
        return self._result("linked", "link_done")

    def attach_verified(self, identity: Identity, verified: Identity) -> str:
        """Join `identity` to the person holding `verified` (an identity the shop vouched for).

        Returns what happened: "joined", "already", or "attached" (no such person yet:
        the verified identity is added to the chat's person).
        """
        at = self._clock()
        with self._uow_factory() as uow:
            chat = uow.profiles.get_or_create(identity=identity, at=at)
            owner = uow.profiles.find(identity=verified)
            if owner is not None and owner.id == chat.id:
                return "already"
            if owner is None:
                owner = uow.profiles.get_or_create(identity=verified, at=at)
                outcome = "attached"
            else:
                outcome = "joined"
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
            self._split(uow, person, identity, at)
            uow.commit()
        return self._result("unlinked", "unlink_done")

    def _result(self, kind: str, key: str, **values: object) -> LinkResult:
        return LinkResult(kind, [self._bank.message(key, **values)])

    @staticmethod
    def _merge(
        uow: UnitOfWork, *, survivor: Person, absorbed: Person, via: Identity, at: datetime
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
            "absorbed_person": absorbed.id,
            "identities": [str(i) for i in absorbed.identities],
            "confirmed_via": via.channel,
        }
        uow.links.add_audit(kind="link", person_id=survivor.id, details=details, at=at)

    @staticmethod
    def _split(uow: UnitOfWork, person: Person, identity: Identity, at: datetime) -> None:
        profiles = uow.profiles
        new_id = profiles.create_empty(at=at)
        profiles.move_identity(identity=identity, to_person_id=new_id)
        remaining_channels = {i.channel for i in person.identities if i != identity}
        if identity.channel not in remaining_channels:
            profiles.move_records(
                from_person_id=person.id, to_person_id=new_id, channel=identity.channel
            )
        profiles.recompute_supersession(person_id=person.id)
        profiles.recompute_supersession(person_id=new_id)
        for person_id in (person.id, new_id):
            moved = profiles.get(person_id=person_id)
            if moved is not None:
                profiles.replace_questions(
                    person_id=person_id, records=_answered_only_with_values(moved, person)
                )
        details = {"identity": str(identity), "new_person": new_id}
        uow.links.add_audit(kind="unlink", person_id=person.id, details=details, at=at)
        uow.links.add_audit(kind="unlink", person_id=new_id, details=details, at=at)


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
