"""The inbound worker Telegram and Slack share: deliveries acknowledged at once, answered later.

Both platforms want a quick 2xx and deliver again otherwise, so each webhook verifies,
parses and classifies a delivery, hands it to its `InboundWorker` and answers at once.
The worker then, for each delivery, in a background task:

- waits until every earlier delivery of the same conversation is done: one at a time per
  conversation, in arrival order, while different conversations run side by side;
- drops it when one of its keys was seen before (`receipts`: persisted in the profile
  store, so a redelivery is answered once, also across a restart);
- runs the connector's handler. A failure is logged with the exception's type only at
  ERROR (its message may hold shopper text: the details go to DEBUG), and the next
  delivery runs as usual.

On shutdown `close` gives running deliveries a grace period, then returns.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Awaitable, Callable, Generic, Sequence, TypeVar

from bot.domain.model import utcnow
from bot.services.receipts import first_delivery
from bot.store.ports import UnitOfWorkFactory

MAX_BODY_BYTES = 64 * 1024
"""The largest webhook body any connector accepts (REST, Telegram, Slack; 413 above)."""
SHUTDOWN_GRACE_SECONDS = 5.0
"""How long running deliveries may take to finish when the server stops."""

FirstDelivery = Callable[[str], bool]
"""True the first time a delivery key is seen (the key is recorded); blocking, run in a thread."""

Item = TypeVar("Item")


def receipts(
    uow_factory: UnitOfWorkFactory,
    *,
    channel: str,
    secret: str,
    clock: Callable[[], datetime] = utcnow,
) -> FirstDelivery:
    """The persisted duplicate check of `channel`: `bot.services.receipts.first_delivery`.

    Args:
        uow_factory: the profile store.
        channel: the connector's name, which receipts are kept under.
        secret: the installation's pseudonym key (keys are stored as pseudonyms only).
        clock: when a key is seen (retention deletes old receipts).
    """

    def check(key: str) -> bool:
        return first_delivery(uow_factory, channel=channel, key=key, at=clock(), secret=secret)

    return check


@dataclass(frozen=True)
class WorkerLogs:
    """Where and how one connector's worker logs; no line carries shopper data."""

    logger: logging.Logger
    duplicate: str
    """Logged when a delivery was seen before."""
    failure_details: str
    """Logged at DEBUG with the traceback after a failure."""
    duplicate_level: int = logging.INFO


class InboundWorker(Generic[Item]):
    """Runs one connector's deliveries in the background (see the module docstring).

    Args:
        handle: answers one delivery (the connector's part: output channel, Rasa).
        first_delivery: the duplicate check, called in a thread (`receipts`).
        logs: the connector's logger and log lines.
    """

    def __init__(
        self,
        handle: Callable[[Item], Awaitable[None]],
        *,
        first_delivery: FirstDelivery,
        logs: WorkerLogs,
    ) -> None:
        self._handle = handle
        self._first_delivery = first_delivery
        self._logs = logs
        self._tasks: set[asyncio.Task[None]] = set()
        self._tails: dict[str, asyncio.Task[None]] = {}

    @property
    def running(self) -> int:
        """How many deliveries are not finished yet (running or waiting for their turn)."""
        return len(self._tasks)

    def submit(self, item: Item, *, conversation: str, keys: Sequence[str], what: str) -> None:
        """Handle `item` after every delivery submitted before it for `conversation`.

        Args:
            item: the delivery, as the connector classified it.
            conversation: whose turn it takes (a chat, a user).
            keys: its de-duplication keys, checked in order: it is dropped as soon as
                one was seen before (the keys after that one are not recorded).
            what: names it in the failure log line ("Telegram text update"): no
                shopper data.
        """
        previous = self._tails.get(conversation)
        task = asyncio.create_task(self._run(item, tuple(keys), what, previous))
        self._tails[conversation] = task
        self._tasks.add(task)
        task.add_done_callback(partial(self._forget, conversation))

    def _forget(self, conversation: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._tails.get(conversation) is task:
            del self._tails[conversation]

    async def _run(
        self, item: Item, keys: tuple[str, ...], what: str, previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        logger = self._logs.logger
        try:
            if not await asyncio.to_thread(self._first, keys):
                logger.log(self._logs.duplicate_level, self._logs.duplicate)
                return
            await self._handle(item)
        except Exception as error:  # a background task: nobody else would see it
            logger.error("%s failed: %s", what, type(error).__name__)
            logger.debug(self._logs.failure_details, exc_info=True)

    def _first(self, keys: tuple[str, ...]) -> bool:
        """True when none of `keys` was seen before; they are recorded up to the first seen."""
        return all(self._first_delivery(key) for key in keys)

    async def close(self, grace_seconds: float) -> None:
        """Wait up to `grace_seconds` for the deliveries not finished yet, then return."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace_seconds)
