"""In-memory audit repository: the audit trail, filed by person id or pseudonym."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from bot.store.memory.data import StoreData


class MemoryAuditRepository:
    """AuditRepository over the unit of work's copy of the data."""

    def __init__(self, data: StoreData) -> None:
        self._data = data

    def add(self, *, kind: str, person_id: str, details: dict[str, Any], at: datetime) -> None:
        self._data.audit.append(
            {"at": at, "kind": kind, "person_id": person_id, "details": copy.deepcopy(details)}
        )

    def events(self, *, person_id: str) -> list[dict[str, Any]]:
        filed = [e for e in self._data.audit if e["person_id"] == person_id]
        filed.sort(key=lambda e: e["at"])  # stable: same-time events stay in order added
        return [{"at": e["at"], "kind": e["kind"], "details": e["details"]} for e in filed]

    def rekey(self, *, person_id: str, to: str) -> None:
        for event in self._data.audit:
            if event["person_id"] == person_id:
                event["person_id"] = to
