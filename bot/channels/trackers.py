"""Rasa's SQL tracker store, with `PUT /conversations/<id>/tracker/events` that replaces.

Rasa 3.6's `SQLTrackerStore.save` only appends the events it has not stored yet, so
replacing a conversation's events over the HTTP API (what "forget me" and
`rapport retention run` do) leaves every old row, text included, in the database
(RasaHQ/rasa#3676). This subclass tells the two kinds of save apart: a tracker this
store loaded is saved as before (new events appended); any other tracker (one the API
built from a request body, or a brand-new conversation) replaces every stored row of
its conversation, in one transaction.

Use it in endpoints.yml instead of `type: SQL`, with the same keys:

    tracker_store:
      type: bot.channels.trackers.ReplaceableSQLTrackerStore
      dialect: "sqlite"
      db: "var/trackers.db"
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

# Set on trackers this store loaded (or saved): their next save only appends.
_LOADED = "_rapport_loaded_from_store"


class ReplaceableSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose save of a tracker it did not load replaces the rows."""

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if tracker is not None:
            setattr(tracker, _LOADED, True)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        if getattr(tracker, _LOADED, False):
            await super().save(tracker)
            return
        await self.stream_events(tracker)
        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(
                self.SQLEvent.sender_id == tracker.sender_id
            ).delete(synchronize_session=False)
            for event in tracker.events:
                session.add(self._row(tracker.sender_id, event.type_name, event.as_dict()))
            session.commit()
        setattr(tracker, _LOADED, True)

    def _row(self, sender_id: str, type_name: str, data: dict[str, Any]) -> Any:
        # The same columns SQLTrackerStore.save writes.
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )


class ForgettingInMemoryTrackerStore(InMemoryTrackerStore):
    """Rasa's in-memory tracker store, where a conversation replaced by nothing is gone.

    "Forget me" replaces a conversation's events with `[]`: Rasa's store would keep an
    empty tracker under the shopper's id until the process ends; this one drops it.
    """

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not tracker.events:
            self.store.pop(tracker.sender_id, None)
            await self.stream_events(tracker)
            return
        await super().save(tracker)
