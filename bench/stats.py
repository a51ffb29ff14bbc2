"""Percentiles, summaries and target checks for the benchmark (pure functions, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], pct: float) -> float:
    """The `pct`-th percentile with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within [0, 100], got {pct}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize_ms(latencies_s: Sequence[float]) -> dict[str, float]:
    """Count, mean and p50/p95/p99 of latencies given in seconds, reported in milliseconds."""
    if not latencies_s:
        return {"n": 0}
    summary: dict[str, float] = {
        "n": len(latencies_s),
        "mean_ms": 1000 * sum(latencies_s) / len(latencies_s),
    }
    for pct in PERCENTILES:
        summary[f"p{pct}_ms"] = 1000 * percentile(latencies_s, pct)
    return summary


def rate(count: int, seconds: float) -> float:
    """Events per second; zero when no time passed."""
    return count / seconds if seconds > 0 else 0.0


def ratio(numerator: float, denominator: float) -> float | None:
    """`numerator / denominator`, or None when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else None


@dataclass(frozen=True)
class Target:
    """A ratio that must stay at most (`upper=True`) or at least (`upper=False`) `bound`."""

    name: str
    bound: float
    upper: bool

    def met(self, value: float | None) -> bool | None:
        """Whether `value` meets the target; None when there is nothing to judge."""
        if value is None:
            return None
        return value <= self.bound if self.upper else value >= self.bound

    def describe(self) -> str:
        return f"{'≤' if self.upper else '≥'} {self.bound:g}x"


LATENCY_TARGET = Target("p50 per profiling turn, Rapport / starter", 0.8, upper=True)
THROUGHPUT_TARGET = Target("messages/s, Rapport / starter", 1.25, upper=False)
