"""Port of the receipt repository: platform deliveries already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class ReceiptRepository(Protocol):
    """Platform deliveries already handled, so a retry or replay is not answered twice."""

    def add(self, *, channel: str, key: str, at: datetime) -> bool:
        """Record a delivery; False when it had been recorded before (a duplicate)."""

    def delete_before(self, *, before: datetime) -> int:
        """Forget deliveries received before `before`; how many."""
