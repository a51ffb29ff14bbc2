"""Asyncio load generator: scripted shoppers talking to a Rasa REST webhook on 127.0.0.1.

Every shopper runs one whole conversation, turn after turn (each turn waits for the
bot's full reply). `concurrency` shoppers are active at once; a finished shopper is
replaced by the next one until `conversations` have been run. The number of requests
is fixed in advance and every request has a timeout, so a phase always ends.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from bench.stats import rate

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Script:
    """One shopper's conversation with a bot; `profiling` holds the indices of profiling turns."""

    bot: str
    messages: tuple[str, ...]
    profiling: frozenset[int] = frozenset()


@dataclass(frozen=True)
class TurnSample:
    """One measured turn: the time from sending the message to the bot's full reply."""

    turn: int
    latency_s: float
    ok: bool
    profiling: bool


@dataclass
class PhaseResult:
    """All turns of one phase (one bot, one concurrency level, one round) and its wall time."""

    samples: list[TurnSample] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def msg_per_s(self) -> float:
        return rate(len(self.samples), self.wall_s)

    @property
    def errors(self) -> int:
        return sum(not sample.ok for sample in self.samples)


def webhook_url(rasa_url: str) -> str:
    """The REST webhook of a Rasa server, refusing anything but a loopback address."""
    host = urlsplit(rasa_url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the bench only talks to 127.0.0.1, not {host!r}")
    return f"{rasa_url.rstrip('/')}/webhooks/rest/webhook"


async def _turn(client: httpx.AsyncClient, url: str, sender: str, message: str) -> bool:
    """Send one message; True when the bot answered with at least one message."""
    try:
        reply = await client.post(url, json={"sender": sender, "message": message})
    except httpx.HTTPError:
        return False
    if reply.status_code != 200:
        return False
    body = reply.json()
    return isinstance(body, list) and len(body) > 0


async def _converse(
    client: httpx.AsyncClient, url: str, script: Script, sender: str, out: list[TurnSample]
) -> None:
    for index, message in enumerate(script.messages):
        start = time.perf_counter()
        ok = await _turn(client, url, sender, message)
        latency = time.perf_counter() - start
        out.append(TurnSample(index, latency, ok, index in script.profiling))


async def run_phase(
    rasa_url: str,
    script: Script,
    *,
    conversations: int,
    concurrency: int,
    sender_prefix: str,
    request_timeout_s: float = 30.0,
) -> PhaseResult:
    """Run `conversations` scripted shoppers, `concurrency` at a time; returns every turn."""
    url = webhook_url(rasa_url)
    result = PhaseResult()
    pending = iter(range(conversations))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(
        timeout=request_timeout_s, limits=limits, trust_env=False
    ) as client:

        async def shopper_slot() -> None:
            for number in pending:
                sender = f"{sender_prefix}-{number}"
                await _converse(client, url, script, sender, result.samples)

        start = time.perf_counter()
        await asyncio.gather(*(shopper_slot() for _ in range(concurrency)))
        result.wall_s = time.perf_counter() - start
    return result


def run_phase_sync(
    rasa_url: str, script: Script, *, conversations: int, concurrency: int, sender_prefix: str
) -> PhaseResult:
    """`run_phase` in a fresh event loop, bounded overall by a generous deadline."""
    turns = conversations * len(script.messages)
    deadline_s = 60.0 + 30.0 * turns / max(concurrency, 1)
    coroutine = run_phase(
        rasa_url,
        script,
        conversations=conversations,
        concurrency=concurrency,
        sender_prefix=sender_prefix,
    )
    return asyncio.run(asyncio.wait_for(coroutine, timeout=deadline_s))
