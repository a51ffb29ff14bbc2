"""Rate limits on shopper messages and web chat connections (the `limits` library).

Each connector keeps one `RateLimits` for its process. Counting is a moving window
in memory, per Rasa process (`limits` also offers Redis storage, for several
processes: the production profile).

- per conversation: RAPPORT_MESSAGE_RATE (default 20 a minute and 200 an hour), on
  every channel; a person types far slower, a script does not;
- per source address: RAPPORT_SOURCE_RATE (default 120 a minute) over every
  conversation from that address, on the web chat, where new conversations cost an
  attacker nothing; Telegram and Slack deliveries all come from the platform (the
  per-conversation limit is theirs), REST callers are the shop's own authenticated
  servers (per conversation only);
- web chat connection attempts per source address: RAPPORT_CONNECTION_RATE (default
  30 a minute).

A refused message is answered in the chat ("you're sending messages faster than I
can read them") and never reaches Rasa; a refused connection gets a connect error
the page shows.
"""

from __future__ import annotations

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.config import Settings


def _within(limiter: MovingWindowRateLimiter, items: list[RateLimitItem], *key: str) -> bool:
    # Every window is counted, so a burst refused by the minute limit still counts
    # towards the hour.
    allowed = [limiter.hit(item, *key) for item in items]
    return all(allowed)


class RateLimits:
    """Decides whether one more message or connection is accepted right now."""

    def __init__(self, *, per_conversation: str, per_source: str, connections: str) -> None:
        # limits 2.4 keeps only a weak reference to its storage: hold it here.
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._conversation = parse_many(per_conversation)
        self._source = parse_many(per_source)
        self._connections = parse_many(connections)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(
            per_conversation=settings.message_rate,
            per_source=settings.source_rate,
            connections=settings.connection_rate,
        )

    def message(self, *, channel: str, conversation: str, source: str | None = None) -> bool:
        """Count one message of `conversation` (and of `source`, if given); False: refuse it."""
        by_conversation = _within(self._limiter, self._conversation, "msg", channel, conversation)
        by_source = source is None or _within(self._limiter, self._source, "src", source)
        return by_conversation and by_source

    def connection(self, *, source: str) -> bool:
        """Count one connection attempt from `source`; False: refuse it."""
        return _within(self._limiter, self._connections, "conn", source)
