"""The profile store's ports: what services may ask of any backend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Iterator, Protocol

from bot.domain.model import AttributeValue, ConsentRecord, Identity, Person, QuestionRecord
from bot.domain.purchases import FlagStatus, Order, PastItem, PurchaseContext, PurchaseFlag


class ProfileRepository(Protocol):
    """People and everything recorded about them."""

    def get(self, *, person_id: str) -> Person | None:
        """The person with this id, fully loaded, or None."""

    def find(self, *, identity: Identity) -> Person | None:
        """The person owning this channel identity, or None."""

    def get_or_create(self, *, identity: Identity, at: datetime) -> Person:
        """The person owning `identity`, created with it when unknown."""

    def add_value(self, *, person_id: str, value: AttributeValue) -> None:
        """Append a value; the current value of the same attribute becomes superseded."""

    def add_consent(self, *, person_id: str, record: ConsentRecord) -> None:
        """Append an entry to the consent ledger."""

    def save_question(self, *, person_id: str, record: QuestionRecord) -> None:
        """Insert or replace where one question stands for this person."""

    def create_empty(self, *, at: datetime) -> str:
        """A new person with nothing yet; its id."""

    def move_identity(self, *, identity: Identity, to_person_id: str) -> None:
        """Make `identity` belong to another person."""

    def move_records(
        self, *, from_person_id: str, to_person_id: str, channel: str | None = None
    ) -> None:
        """Move values and consent entries (only those recorded via `channel`, if given)."""

    def replace_questions(self, *, person_id: str, records: dict[str, QuestionRecord]) -> None:
        """Set exactly these question states for the person."""

    def recompute_supersession(self, *, person_id: str) -> None:
        """Per attribute, the newest value current and each older one superseded by the next."""

    def delete(self, *, person_id: str) -> None:
        """Remove a person and everything still attached to it."""

    def list_ids(self) -> list[str]:
        """Every person id, oldest first."""

    def iter_people(self) -> Iterator[Person]:
        """Every person, fully loaded, oldest first."""

    def list_identities(self) -> list[Identity]:
        """Every channel identity of every person, sorted by channel, then external id."""

    def anonymous_before(self, *, before: datetime) -> list[Person]:
        """People made before `before` who left nothing but their chat identities.

        No stored value, no consent ever granted and no consent entry since `before`,
        no question state changed since `before`, no order or purchase context, no
        shop identity. Oldest first.
        """


class ReceiptRepository(Protocol):
    """Platform deliveries already handled, so a retry or replay is not answered twice."""

    def add(self, *, channel: str, key: str, at: datetime) -> bool:
        """Record a delivery; False when it had been recorded before (a duplicate)."""

    def delete_before(self, *, before: datetime) -> int:
        """Forget deliveries received before `before`; how many."""


@dataclass(frozen=True)
class ClaimedCode:
    """A link code used up: whose it was, and the chat that asked for it (if known)."""

    person_id: str
    issuer: Identity | None


class LinkRepository(Protocol):
    """One-time link codes, wrong-code counts, undoable joins and the audit trail."""

    def add_code(
        self,
        *,
        person_id: str,
        code_hash: str,
        issuer: Identity,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        """Store a new code (its hash) for `person_id`, revoking their earlier unused codes."""

    def claim_code(self, *, code_hash: str, at: datetime) -> ClaimedCode | None:
        """Use up a valid code once; whose it was, or None if none is valid."""

    def add_failure(self, *, chat_key: str, source_key: str | None, at: datetime) -> None:
        """Record one wrong code typed in the chat `chat_key` (pseudonyms, not ids)."""

    def failures_since(
        self, *, since: datetime, chat_key: str | None = None, source_key: str | None = None
    ) -> int:
        """Wrong codes after `since`: of one chat, of one source, or (neither given) of all."""

    def add_join(self, *, person_id: str, identities: list[Identity], at: datetime) -> int:
        """Remember which identities a link joined to `person_id`; the join's id."""

    def join(self, *, join_id: int) -> tuple[str, list[Identity]] | None:
        """The person and the identities of a join, or None when it is gone."""

    def delete_join(self, *, join_id: int) -> None:
        """Forget a join (undone, confirmed, or too old)."""

    def delete_joins_before(self, *, before: datetime) -> int:
        """Forget joins made before `before`; how many."""

    def add_audit(
        self, *, kind: str, person_id: str, details: dict[str, Any], at: datetime
    ) -> None:
        """Append an audit event (counts and pseudonyms only, never ids or text)."""

    def audit_for(self, *, person_id: str) -> list[dict[str, Any]]:
        """Audit events naming `person_id`, oldest first."""

    def rekey_audit(self, *, person_id: str, to: str) -> None:
        """File the audit events of `person_id` under `to` (a pseudonym, after erasure)."""

    def delete_expired_codes(self, *, at: datetime) -> int:
        """Remove codes that expired at or before `at` (used or not); how many."""

    def delete_attempts_before(self, *, before: datetime) -> int:
        """Remove wrong-code records made before `before`; how many."""


class OrderRepository(Protocol):
    """Orders, flags on purchases worth asking about, and purchase contexts."""

    def exists(self, *, order_id: str) -> bool:
        """Whether this order id was stored before (orders are idempotent by id)."""

    def add(self, *, order: Order, person_id: str, at: datetime, source: str) -> bool:
        """Store an order and its items; False if the order id is already stored."""

    def past_items(self, *, person_id: str, before: datetime, limit: int) -> list[PastItem]:
        """The person's newest `limit` items ordered before `before`, newest first."""

    def add_flag(
        self,
        *,
        person_id: str,
        order_id: str,
        line: int,
        item_name: str,
        department: str,
        reason: str,
        at: datetime,
        expires_at: datetime,
    ) -> None:
        """Flag an item as worth asking about."""

    def flags(self, *, person_id: str) -> list[PurchaseFlag]:
        """Every flag of the person, oldest first."""

    def set_flag_status(self, *, flag_id: int, status: FlagStatus) -> None:
        """Move a flag on (asked, done)."""

    def delete_expired_flags(self, *, at: datetime) -> int:
        """Remove flags that expired at or before `at`, whatever their status; how many."""

    def add_context(self, *, person_id: str, context: PurchaseContext) -> None:
        """Record what the shopper said a purchase was for."""

    def contexts(self, *, person_id: str) -> list[PurchaseContext]:
        """Every purchase context of the person, oldest first."""

    def add_reminder(
        self,
        *,
        person_id: str,
        order_id: str,
        line: int,
        occasion: str,
        relation: str | None,
        remind_on: datetime,
        at: datetime,
    ) -> None:
        """Keep a reminder candidate the shopper said yes to."""

    def reminders(self, *, person_id: str) -> list[dict[str, Any]]:
        """The person's reminder candidates."""


class TokenRepository(Protocol):
    """API bearer tokens (only their hashes are stored)."""

    def add(self, *, token_hash: str, scope: str, at: datetime) -> None:
        """Store a new token hash with its scope."""

    def scope_of(self, *, token_hash: str) -> str | None:
        """The scope of a live token, or None."""


class TombstoneRepository(Protocol):
    """Salted hashes of erased identities (nothing else about them is kept)."""

    def add(self, *, identity_hash: str, at: datetime) -> None:
        """Record that an identity was erased (idempotent)."""

    def exists(self, *, identity_hash: str) -> bool:
        """Whether this identity was erased."""


class RightsRepository(Protocol):
    """One-time data-export links and the exact wordings consent was asked with."""

    def add_export(
        self, *, token_hash: str, person_id: str, created_at: datetime, expires_at: datetime
    ) -> None:
        """Store a new export link (only its token's hash)."""

    def claim_export(self, *, token_hash: str, at: datetime) -> str | None:
        """Use up a live export link once; the person id, or None if none is live."""

    def export_is_live(self, *, token_hash: str, at: datetime) -> bool:
        """Whether the link exists, is unused and has not expired (nothing is used up)."""

    def add_wording(
        self, *, wording_hash: str, text: str, policy_version: str, at: datetime
    ) -> None:
        """Keep the text behind a wording hash (the first time it is seen)."""

    def wording(self, *, wording_hash: str) -> str | None:
        """The text consent was asked with, by its hash."""


class UnitOfWork(Protocol):
    """One atomic piece of work on the store: commit or nothing."""

    @property
    def profiles(self) -> ProfileRepository:
        """The repository bound to this unit of work."""

    @property
    def links(self) -> LinkRepository:
        """Link codes and audit bound to this unit of work."""

    @property
    def orders(self) -> OrderRepository:
        """Orders and purchase contexts bound to this unit of work."""

    @property
    def tokens(self) -> TokenRepository:
        """API tokens bound to this unit of work."""

    @property
    def tombstones(self) -> TombstoneRepository:
        """Erasure tombstones bound to this unit of work."""

    @property
    def receipts(self) -> ReceiptRepository:
        """Delivery receipts bound to this unit of work."""

    @property
    def rights(self) -> RightsRepository:
        """Export links and consent wordings bound to this unit of work."""

    def __enter__(self) -> "UnitOfWork": ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work per use case call."""

    def __call__(self) -> UnitOfWork: ...
