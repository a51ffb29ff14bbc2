"""Turns measured phases into summaries, Rapport/starter ratios and target verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.load import PhaseResult, TurnSample
from bench.stats import LATENCY_TARGET, THROUGHPUT_TARGET, percentile, rate, ratio, summarize_ms


def _latencies(samples: Sequence[TurnSample], *, profiling_only: bool) -> list[float]:
    return [s.latency_s for s in samples if s.ok and (s.profiling or not profiling_only)]


def _p50_ms(latencies: Sequence[float]) -> float | None:
    return 1000 * percentile(latencies, 50) if latencies else None


def p50_by_turn(samples: Sequence[TurnSample]) -> list[float | None]:
    """The p50 in milliseconds of each turn of the script (by its index), answered turns only."""
    if not samples:
        return []
    turns = max(s.turn for s in samples) + 1
    return [_p50_ms([s.latency_s for s in samples if s.ok and s.turn == t]) for t in range(turns)]


def round_summary(phase: PhaseResult) -> dict[str, Any]:
    """The headline figures of one round, to show how much rounds differ."""
    ok = len(phase.samples) - phase.errors
    return {
        "msg_per_s": rate(ok, phase.wall_s),
        "p50_ms": _p50_ms(_latencies(phase.samples, profiling_only=False)),
        "profiling_p50_ms": _p50_ms(_latencies(phase.samples, profiling_only=True)),
    }


def aggregate(phases: Sequence[PhaseResult]) -> dict[str, Any]:
    """Pool the rounds of one bot at one concurrency level.

    Percentiles pool every answered turn of every round; messages/s is answered turns
    over the summed wall time of the rounds. Failed turns count only as errors.
    """
    samples = [s for phase in phases for s in phase.samples]
    answered = sum(s.ok for s in samples)
    wall_s = sum(phase.wall_s for phase in phases)
    return {
        "all": summarize_ms(_latencies(samples, profiling_only=False)),
        "profiling": summarize_ms(_latencies(samples, profiling_only=True)),
        "turns": len(samples),
        "errors": len(samples) - answered,
        "wall_s": wall_s,
        "msg_per_s": rate(answered, wall_s),
        "p50_by_turn_ms": p50_by_turn(samples),
        "rounds": [round_summary(phase) for phase in phases],
    }


def _get(summary: dict[str, Any], key: str) -> float:
    value = summary.get(key)
    return float(value) if value is not None else 0.0


def compare(rapport: dict[str, Any], starter: dict[str, Any]) -> dict[str, Any]:
    """Ratios Rapport / starter (overall and per round) and whether the targets are met."""
    starter_p50 = _get(starter["all"], "p50_ms")
    ratios = {
        "p50_profiling": ratio(_get(rapport["profiling"], "p50_ms"), starter_p50),
        "p50_all": ratio(_get(rapport["all"], "p50_ms"), starter_p50),
        "msg_per_s": ratio(rapport["msg_per_s"], starter["msg_per_s"]),
    }
    per_round = [
        {
            "p50_profiling": ratio(_get(mine, "profiling_p50_ms"), _get(theirs, "p50_ms")),
            "msg_per_s": ratio(mine["msg_per_s"], theirs["msg_per_s"]),
        }
        for mine, theirs in zip(rapport["rounds"], starter["rounds"], strict=True)
    ]
    return {
        "ratios": ratios,
        "per_round": per_round,
        "targets": {
            "latency": LATENCY_TARGET.met(ratios["p50_profiling"]),
            "throughput": THROUGHPUT_TARGET.met(ratios["msg_per_s"]),
        },
    }


def all_met(levels: dict[str, dict[str, Any]]) -> bool:
    """True when every target holds at every concurrency level."""
    return all(
        verdict is True
        for level in levels.values()
        for verdict in level["comparison"]["targets"].values()
    )
