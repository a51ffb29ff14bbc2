"""The profile store's ports: what services may ask of any backend."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Iterator, Protocol

from bot.domain.model import AttributeValue, ConsentRecord, Identity, Person, QuestionRecord


class ProfileRepository(Protocol):
    """People and everything recorded about them."""

    def get(self, *, person_id: str) -> Person | None:
        """The person with this id, fully loaded, or None."""

    def find(self, *, identity: Identity) -> Person | None:
        """The person owning this channel identity, or None."""

    def get_or_create(self, *, identity: Identity, at: datetime) -> Person:
        """The person owning `identity`, created with it when unknown."""

    def add_value(self, *, person_id: str, value: AttributeValue) -> None:
        """Append a value; the current value of the same attribute becomes superseded."""

    def add_consent(self, *, person_id: str, record: ConsentRecord) -> None:
        """Append an entry to the consent ledger."""

    def save_question(self, *, person_id: str, record: QuestionRecord) -> None:
        """Insert or replace where one question stands for this person."""

    def list_ids(self) -> list[str]:
        """Every person id, oldest first."""

    def iter_people(self) -> Iterator[Person]:
        """Every person, fully loaded, oldest first."""


class ReceiptRepository(Protocol):
    """Platform deliveries already handled, so a retry or replay is not answered twice."""

    def add(self, *, channel: str, key: str, at: datetime) -> bool:
        """Record a delivery; False when it had been recorded before (a duplicate)."""


class UnitOfWork(Protocol):
    """One atomic piece of work on the store: commit or nothing."""

    @property
    def profiles(self) -> ProfileRepository:
        """The repository bound to this unit of work."""

    @property
    def receipts(self) -> ReceiptRepository:
        """Delivery receipts bound to this unit of work."""

    def __enter__(self) -> "UnitOfWork": ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work per use case call."""

    def __call__(self) -> UnitOfWork: ...
