"""In-memory link repository: one-time link codes, wrong-code counts and undoable joins."""

from __future__ import annotations

from datetime import datetime

from bot.domain.model import Identity
from bot.store.memory.data import StoreData
from bot.store.ports import ClaimedCode


class MemoryLinkRepository:
    """LinkRepository over the unit of work's copy of the data."""

    def __init__(self, data: StoreData) -> None:
        self._data = data

    def add_code(
        self,
        *,
        person_id: str,
        code_hash: str,
        issuer: Identity,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        for code in self._data.codes:
            if code["person_id"] == person_id and code["used_at"] is None:
                code["used_at"] = created_at
        self._data.codes.append(
            {
                "person_id": person_id,
                "hash": code_hash,
                "issuer": issuer,
                "expires_at": expires_at,
                "used_at": None,
            }
        )

    def claim_code(self, *, code_hash: str, at: datetime) -> ClaimedCode | None:
        for code in reversed(self._data.codes):
            if code["hash"] == code_hash and code["used_at"] is None and code["expires_at"] > at:
                code["used_at"] = at
                return ClaimedCode(str(code["person_id"]), code["issuer"])
        return None

    def add_failure(self, *, chat_key: str, source_key: str | None, at: datetime) -> None:
        self._data.attempts.append((chat_key, source_key, at))

    def failures_since(
        self, *, since: datetime, chat_key: str | None = None, source_key: str | None = None
    ) -> int:
        return sum(
            1
            for chat, source, at in self._data.attempts
            if at > since
            and (chat_key is None or chat == chat_key)
            and (source_key is None or source == source_key)
        )

    def add_join(self, *, person_id: str, identities: list[Identity], at: datetime) -> int:
        join_id = max(self._data.joins, default=0) + 1
        self._data.joins[join_id] = (person_id, list(identities), at)
        return join_id

    def join(self, *, join_id: int) -> tuple[str, list[Identity]] | None:
        found = self._data.joins.get(join_id)
        if found is None or found[0] not in self._data.people:
            return None
        return found[0], list(found[1])

    def delete_join(self, *, join_id: int) -> None:
        self._data.joins.pop(join_id, None)

    def delete_joins_before(self, *, before: datetime) -> int:
        old = [key for key, (_, _, at) in self._data.joins.items() if at < before]
        for key in old:
            del self._data.joins[key]
        return len(old)

    def delete_expired_codes(self, *, at: datetime) -> int:
        kept = [c for c in self._data.codes if c["expires_at"] > at]
        removed = len(self._data.codes) - len(kept)
        self._data.codes = kept
        return removed

    def delete_attempts_before(self, *, before: datetime) -> int:
        kept = [a for a in self._data.attempts if a[2] >= before]
        removed = len(self._data.attempts) - len(kept)
        self._data.attempts = kept
        return removed
