"""Retention: delete what is no longer needed, on a schedule (`rapport retention ...`).

Two sweeps, reported as counts only:

- the profile store: purchase flags past their `expires_at` (whatever their status;
  what a shopper said about a purchase is a purchase context and stays), link codes
  past their `expires_at` (used or not), wrong-code records older than a day (the
  pause looks back an hour), undo records of links older than 7 days, delivery
  receipts older than RAPPORT_RECEIPT_DAYS (3), and anonymous people: those who never
  consented and left nothing but a chat identity, RAPPORT_ANONYMOUS_DAYS (30) after
  their last consent answer or question (their chats are cleared too);
- conversation transcripts: for every identity the profile store knows, Rasa's
  tracker events older than the cutoff are removed through Rasa's HTTP API (the
  events newer than the cutoff are put back as the whole history).

The profile itself (answers, consent ledger, question states) is not touched: it is
kept until the shopper asks to be forgotten.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from bot.adapters.rasa_api import RasaApi, RasaApiError, conversation_ids
from bot.domain.model import Identity
from bot.services.linking import JOIN_UNDO_DAYS
from bot.store.ports import UnitOfWorkFactory

logger = logging.getLogger(__name__)

ATTEMPTS_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long what retention sweeps is kept."""

    receipt_days: int = 3
    anonymous_days: int = 30


@dataclass(frozen=True)
class StoreSweep:
    """What the store sweep deleted (and whose chats to clear)."""

    flags: int
    link_codes: int
    link_attempts: int
    link_joins: int = 0
    receipts: int = 0
    anonymous: tuple[Identity, ...] = ()
    anonymous_people: int = 0


@dataclass(frozen=True)
class TranscriptSweep:
    """What the transcript sweep did, in conversations and events."""

    conversations: int
    trimmed: int
    events_deleted: int
    failed: int


def events_to_keep(events: list[dict[str, Any]], cutoff: float) -> list[dict[str, Any]]:
    """The events at or after `cutoff` (a Unix time); an event without a time is old."""
    kept = []
    for event in events:
        stamp = event.get("timestamp")
        if isinstance(stamp, (int, float)) and stamp >= cutoff:
            kept.append(event)
    return kept


class RetentionService:
    """Deletes expired store rows and old conversation transcripts."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Callable[[], datetime],
        policy: RetentionPolicy = RetentionPolicy(),
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._policy = policy

    def sweep_store(self) -> StoreSweep:
        """Delete what has expired from the profile store (one commit); counts only."""
        now = self._clock()
        with self._uow_factory() as uow:
            anonymous = uow.profiles.anonymous_before(
                before=now - timedelta(days=self._policy.anonymous_days)
            )
            for person in anonymous:
                uow.profiles.delete(person_id=person.id)
            swept = StoreSweep(
                flags=uow.orders.delete_expired_flags(at=now),
                link_codes=uow.links.delete_expired_codes(at=now),
                link_attempts=uow.links.delete_attempts_before(before=now - ATTEMPTS_KEPT),
                link_joins=uow.links.delete_joins_before(
                    before=now - timedelta(days=JOIN_UNDO_DAYS)
                ),
                receipts=uow.receipts.delete_before(
                    before=now - timedelta(days=self._policy.receipt_days)
                ),
                anonymous=tuple(i for person in anonymous for i in person.identities),
                anonymous_people=len(anonymous),
            )
            uow.commit()
        return swept

    def conversations(self) -> list[str]:
        """The Rasa sender ids of every identity the profile store knows."""
        with self._uow_factory() as uow:
            return conversation_ids(uow.profiles.list_identities())

    async def sweep_transcripts(
        self, api_factory: Callable[[], RasaApi], days: float
    ) -> TranscriptSweep:
        """Remove tracker events older than `days` from every known conversation.

        Raises RasaUnreachable when Rasa does not answer (what was done before stays
        done). A conversation Rasa refuses (e.g. too large) is counted as failed; the
        rest go on.
        """
        cutoff = (self._clock() - timedelta(days=days)).timestamp()
        senders = self.conversations()
        trimmed = deleted = failed = 0
        async with api_factory() as api:
            for sender in senders:
                try:
                    tracker = await api.get_tracker(sender)
                    events = tracker.get("events") or []
                    kept = events_to_keep(events, cutoff)
                    if len(kept) == len(events):
                        continue
                    await api.replace_events(sender, kept)
                except RasaApiError as exc:  # too large, or an id Rasa's API cannot name
                    failed += 1
                    logger.warning(
                        "Retention: a conversation was not trimmed (%s %d)",
                        type(exc).__name__,
                        exc.status,
                    )
                    continue
                trimmed += 1
                deleted += len(events) - len(kept)
        return TranscriptSweep(len(senders), trimmed, deleted, failed)


def run_every(job: Callable[[], int], *, hours: float, retry_minutes: float, retry_on: int) -> None:
    """Run `job` now, then every `hours`, until the process is stopped (honcho, Ctrl-C).

    When a run returns `retry_on` (Rasa not reachable yet, e.g. while it loads its
    model), it is tried again after `retry_minutes`. Runs never overlap.
    """
    import threading
    from datetime import timezone

    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone=timezone.utc)
    running = threading.Lock()

    def run() -> None:
        if not running.acquire(blocking=False):
            return
        try:
            code = job()
        finally:
            running.release()
        if code == retry_on:
            retry = datetime.now(timezone.utc) + timedelta(minutes=retry_minutes)
            scheduler.add_job(run, "date", run_date=retry, id="retry", replace_existing=True)

    now = datetime.now(timezone.utc)
    scheduler.add_job(
        run, "interval", hours=hours, next_run_time=now, id="retention", coalesce=True
    )
    scheduler.start()
