"""In-memory token repository: API bearer tokens, stored by hash."""

from __future__ import annotations

from datetime import datetime

from bot.store.memory.data import StoreData


class MemoryTokenRepository:
    """TokenRepository over the unit of work's copy of the data."""

    def __init__(self, data: StoreData) -> None:
        self._data = data

    def add(self, *, token_hash: str, scope: str, at: datetime) -> None:
        self._data.tokens[token_hash] = scope

    def scope_of(self, *, token_hash: str) -> str | None:
        return self._data.tokens.get(token_hash)
