"""Port of the tombstone repository: salted hashes of erased identities."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class TombstoneRepository(Protocol):
    """Salted hashes of erased identities (nothing else about them is kept)."""

    def add(self, *, identity_hash: str, at: datetime) -> None:
        """Record that an identity was erased (idempotent)."""

    def exists(self, *, identity_hash: str) -> bool:
        """Whether this identity was erased."""
