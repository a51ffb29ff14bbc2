"""Port of the link repository: one-time link codes, wrong-code counts, undoable joins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.model import Identity


@dataclass(frozen=True)
class ClaimedCode:
    """A link code used up: whose it was, and the chat that asked for it (if known)."""

    person_id: str
    issuer: Identity | None


class LinkRepository(Protocol):
    """One-time link codes, wrong-code counts and undoable joins.

    `add_audit`, `audit_for` and `rekey_audit` are kept only as aliases of the
    audit port (`UnitOfWork.audit`: `add`, `events`, `rekey`) until callers move.
    """

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

    def delete_expired_codes(self, *, at: datetime) -> int:
        """Remove codes that expired at or before `at` (used or not); how many."""

    def delete_attempts_before(self, *, before: datetime) -> int:
        """Remove wrong-code records made before `before`; how many."""
