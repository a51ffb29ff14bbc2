"""In-memory rights repository: one-time data-export links and consent wordings."""

from __future__ import annotations

from datetime import datetime

from bot.store.memory.data import StoreData


class MemoryRightsRepository:
    """RightsRepository over the unit of work's copy of the data."""

    def __init__(self, data: StoreData) -> None:
        self._data = data

    def add_export(
        self, *, token_hash: str, person_id: str, created_at: datetime, expires_at: datetime
    ) -> None:
        if token_hash in self._data.exports:
            raise ValueError("duplicate export token")
        self._data.exports[token_hash] = {
            "person_id": person_id,
            "expires_at": expires_at,
            "used_at": None,
        }

    def claim_export(self, *, token_hash: str, at: datetime) -> str | None:
        if not self.export_is_live(token_hash=token_hash, at=at):
            return None
        link = self._data.exports[token_hash]
        link["used_at"] = at
        return str(link["person_id"])

    def export_is_live(self, *, token_hash: str, at: datetime) -> bool:
        link = self._data.exports.get(token_hash)
        return link is not None and link["used_at"] is None and link["expires_at"] > at

    def add_wording(
        self, *, wording_hash: str, text: str, policy_version: str, at: datetime
    ) -> None:
        self._data.wordings.setdefault(wording_hash, text)

    def wording(self, *, wording_hash: str) -> str | None:
        return self._data.wordings.get(wording_hash)
