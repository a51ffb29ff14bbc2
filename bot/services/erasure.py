"""'Forget me': erase a person and everything attached, keeping only a salted-hash tombstone.

The tombstone (SHA-256 of a secret salt and the identity) lets an order import
recognise an erased customer without keeping who they were; the audit event records
that an erasure happened and how much was erased, nothing personal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from bot.adapters.secret_files import load_or_create_secret
from bot.domain.model import Identity
from bot.domain.pseudonyms import pseudonym
from bot.store.ports import UnitOfWork, UnitOfWorkFactory


def tombstone_hash(salt: str, identity: Identity) -> str:
    """What is kept of an erased identity."""
    return hashlib.sha256(f"{salt}\n{identity}".encode()).hexdigest()


def load_or_create_salt(path: Path) -> str:
    """The installation's erasure salt, created once (kept out of the database)."""
    return load_or_create_secret(path)


@dataclass(frozen=True)
class Erased:
    """What an erasure removed: the identities (to clear their chats too) and counts."""

    identities: tuple[Identity, ...]
    values: int
    consents: int


class ErasureService:
    """Erases people and answers "was this identity erased?"."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, salt: str, clock: Callable[[], datetime]
    ) -> None:
        self._uow_factory = uow_factory
        self._salt = salt
        self._clock = clock

    def erase(self, identity: Identity) -> Erased:
        """Erase the person behind `identity`, across every linked identity."""
        at = self._clock()
        with self._uow_factory() as uow:
            person = uow.profiles.find(identity=identity)
            if person is None:
                return Erased((), 0, 0)
            for linked in person.identities:
                uow.tombstones.add(identity_hash=tombstone_hash(self._salt, linked), at=at)
            erased = Erased(tuple(person.identities), len(person.values), len(person.consents))
            details = {
                "identities": len(erased.identities),
                "values": erased.values,
                "consents": erased.consents,
            }
            uow.audit.add(kind="erasure", person_id=person.id, details=details, at=at)
            # The person's audit trail stays, filed under a pseudonym: counts and keys only.
            anonymous = pseudonym(self._salt, f"erased-person\n{person.id}")[:32]
            uow.audit.rekey(person_id=person.id, to=anonymous)
            uow.profiles.delete(person_id=person.id)
            uow.commit()
        return erased

    def was_erased(self, uow: UnitOfWork, identity: Identity) -> bool:
        """Whether `identity` was erased (inside the caller's unit of work)."""
        return uow.tombstones.exists(identity_hash=tombstone_hash(self._salt, identity))
