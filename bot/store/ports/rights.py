"""Port of the rights repository: one-time data-export links and consent wordings."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


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
