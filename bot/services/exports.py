"""The shopper's own export: the document, and one-time download links for the web app.

"Export my data" (bot/dialogue/rights.py) says the document inline when it is small,
else gives a link `RAPPORT_PUBLIC_URL/export/<token>`: 256 random bits, stored as
SHA-256, usable once, for `link_minutes`. The web app (bot/web/exports.py) checks and
uses up links here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from bot.domain.model import Person
from bot.services.profiles import person_document
from bot.store.ports import UnitOfWork, UnitOfWorkFactory


def token_hash(token: str) -> str:
    """What the store keeps of an export link's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ExportPolicy:
    """How the shopper's own export is handed over."""

    public_url: str = "http://127.0.0.1:8000"
    link_minutes: int = 15
    inline_limit: int = 1200


class DataExports:
    """The shopper's own document, and its one-time links."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        policy: ExportPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self._uow_factory = uow_factory
        self.policy = policy
        self._clock = clock

    @staticmethod
    def document(uow: UnitOfWork, person: Person, at: datetime) -> dict[str, Any]:
        """Everything about `person`, with the texts their consents answered.

        Nothing is withheld: it is the shopper's own data, sensitive values included.
        """
        wordings = {
            c.wording_hash: uow.rights.wording(wording_hash=c.wording_hash)
            for c in person.consents
            if c.wording_hash
        }
        return {
            "exported_at": at.isoformat(),
            "profile": person_document(
                person,
                purchases=uow.orders.contexts(person_id=person.id),
                reminders=uow.orders.reminders(person_id=person.id),
            ),
            "consent_wordings": wordings,
        }

    def new_link(self, uow: UnitOfWork, person: Person, at: datetime) -> str:
        """A fresh one-time link to `person`'s export (inside the caller's unit of work)."""
        token = secrets.token_urlsafe(32)
        uow.rights.add_export(
            token_hash=token_hash(token),
            person_id=person.id,
            created_at=at,
            expires_at=at + timedelta(minutes=self.policy.link_minutes),
        )
        return f"{self.policy.public_url.rstrip('/')}/export/{token}"

    def is_live(self, token: str) -> bool:
        """Whether a link can still be used (the download page shows its button)."""
        with self._uow_factory() as uow:
            return uow.rights.export_is_live(token_hash=token_hash(token), at=self._clock())

    def claim(self, token: str) -> dict[str, Any] | None:
        """Use the link up and return the document; None if it is used, expired or unknown."""
        at = self._clock()
        with self._uow_factory() as uow:
            person_id = uow.rights.claim_export(token_hash=token_hash(token), at=at)
            person = uow.profiles.get(person_id=person_id) if person_id else None
            if person is None:
                return None
            document = self.document(uow, person, at)
            uow.commit()
        return document
