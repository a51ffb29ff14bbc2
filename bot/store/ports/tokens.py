"""Port of the token repository: API bearer tokens, by hash."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class TokenRepository(Protocol):
    """API bearer tokens (only their hashes are stored)."""

    def add(self, *, token_hash: str, scope: str, at: datetime) -> None:
        """Store a new token hash with its scope."""

    def scope_of(self, *, token_hash: str) -> str | None:
        """The scope of a live token, or None."""
