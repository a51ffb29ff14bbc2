"""Port of the audit trail: what was done to whom, in counts and pseudonyms only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class AuditRepository(Protocol):
    """Audit events, filed under a person id (or a pseudonym, or "*" for everyone)."""

    def add(self, *, kind: str, person_id: str, details: dict[str, Any], at: datetime) -> None:
        """Append an audit event (counts and pseudonyms only, never ids or text)."""

    def events(self, *, person_id: str) -> list[dict[str, Any]]:
        """The events filed under `person_id` (`at`, `kind`, `details`), oldest first."""

    def rekey(self, *, person_id: str, to: str) -> None:
        """File the events of `person_id` under `to` (a pseudonym, after erasure)."""
