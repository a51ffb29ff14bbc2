"""Port of the profile repository: people and everything recorded about them."""

from __future__ import annotations

from datetime import datetime
from typing import Iterator, Protocol, Sequence

from bot.domain.model import AttributeValue, ConsentRecord, Identity, Person, QuestionRecord


class ProfileRepository(Protocol):
    """People and everything recorded about them."""

    def get(self, *, person_id: str) -> Person | None:
        """The person with this id, fully loaded, or None."""

    def get_many(self, *, person_ids: Sequence[str]) -> list[Person]:
        """These people, fully loaded together, in the order given; unknown ids left out."""

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

    def create_empty(self, *, at: datetime) -> str:
        """A new person with nothing yet; its id."""

    def move_identity(self, *, identity: Identity, to_person_id: str) -> None:
        """Make `identity` belong to another person."""

    def move_records(
        self, *, from_person_id: str, to_person_id: str, channel: str | None = None
    ) -> None:
        """Move values and consent entries (only those recorded via `channel`, if given)."""

    def replace_questions(self, *, person_id: str, records: dict[str, QuestionRecord]) -> None:
        """Set exactly these question states for the person."""

    def recompute_supersession(self, *, person_id: str) -> None:
        """Per attribute, the newest value current and each older one superseded by the next."""

    def delete(self, *, person_id: str) -> None:
        """Remove a person and everything still attached to it."""

    def list_ids(self) -> list[str]:
        """Every person id, oldest first."""

    def iter_people(self, *, batch: int = 500) -> Iterator[Person]:
        """Every person, fully loaded, oldest first; `batch` people loaded at a time."""

    def list_identities(self) -> list[Identity]:
        """Every channel identity of every person, sorted by channel, then external id."""

    def anonymous_before(self, *, before: datetime) -> list[Person]:
        """People made before `before` who left nothing but their chat identities.

        No stored value, no consent ever granted and no consent entry since `before`,
        no question state changed since `before`, no order or purchase context, no
        shop identity. Oldest first.
        """
