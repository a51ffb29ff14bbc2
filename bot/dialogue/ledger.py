"""Consent ledger entries written in conversation: each with the hash of the exact wording."""

from __future__ import annotations

import hashlib

from bot.dialogue.turn import TurnContext
from bot.domain.model import ConsentRecord, ConsentStatus
from bot.domain.questions import QuestionBank


def wording_hash(text: str) -> str:
    """The ledger's fingerprint of the exact wording shown."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_consent(
    ctx: TurnContext, bank: QuestionBank, *, purpose: str, status: ConsentStatus, wording: str
) -> None:
    """Append one ledger entry for this turn, keeping the wording it answered."""
    digest = wording_hash(wording)
    ctx.uow.rights.add_wording(
        wording_hash=digest, text=wording, policy_version=bank.policy_version, at=ctx.at
    )
    record = ConsentRecord(
        purpose=purpose,
        status=status,
        policy_version=bank.policy_version,
        channel=ctx.incoming.identity.channel,
        message_ref=ctx.incoming.message_ref,
        created_at=ctx.at,
        wording_hash=digest,
    )
    ctx.add_consent(record)


def intent_is_no(intent: str) -> bool:
    """Whether the shopper's intent declines ("no", "skip")."""
    return intent in ("deny", "skip")
