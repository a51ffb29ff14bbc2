"""The benchmark's arithmetic: percentiles, rates, ratios, targets and per-round pooling."""

from __future__ import annotations

import pytest

from bench.load import PhaseResult, TurnSample, webhook_url
from bench.results import aggregate, all_met, compare, p50_by_turn
from bench.stats import (
    LATENCY_TARGET,
    THROUGHPUT_TARGET,
    Target,
    percentile,
    rate,
    ratio,
    summarize_ms,
)


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 50) == pytest.approx(25.0)
    assert percentile(values, 95) == pytest.approx(38.5)


def test_percentile_ignores_input_order_and_handles_one_value() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([7.0], 99) == 7.0


@pytest.mark.parametrize("pct", [-1, 101])
def test_percentile_rejects_out_of_range(pct: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], pct)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summary_reports_milliseconds() -> None:
    summary = summarize_ms([0.010, 0.020, 0.030])
    assert summary["n"] == 3
    assert summary["mean_ms"] == pytest.approx(20.0)
    assert summary["p50_ms"] == pytest.approx(20.0)
    assert summary["p99_ms"] == pytest.approx(29.8)
    assert summarize_ms([]) == {"n": 0}


def test_rate_and_ratio_guard_against_zero() -> None:
    assert rate(30, 2.0) == 15.0
    assert rate(5, 0.0) == 0.0
    assert ratio(8.0, 10.0) == pytest.approx(0.8)
    assert ratio(1.0, 0.0) is None


def test_targets_bound_from_the_right_side() -> None:
    assert LATENCY_TARGET.met(0.8) is True
    assert LATENCY_TARGET.met(0.81) is False
    assert THROUGHPUT_TARGET.met(1.25) is True
    assert THROUGHPUT_TARGET.met(1.2) is False
    assert Target("x", 1.0, upper=True).met(None) is None
    assert LATENCY_TARGET.describe() == "≤ 0.8x"
    assert THROUGHPUT_TARGET.describe() == "≥ 1.25x"


def _phase(latencies: list[float], wall_s: float, *, failed: int = 0) -> PhaseResult:
    """Turns cycling through a five-turn script; turns 2-4 are profiling turns."""
    samples = [TurnSample(i % 5, lat, True, i % 5 >= 2) for i, lat in enumerate(latencies)]
    samples += [TurnSample(0, 30.0, False, False) for _ in range(failed)]
    return PhaseResult(samples, wall_s)


def test_aggregate_pools_rounds_and_leaves_failed_turns_out() -> None:
    first = _phase([0.01, 0.01, 0.02, 0.02, 0.02], wall_s=1.0, failed=1)
    second = _phase([0.01, 0.01, 0.04, 0.04, 0.04], wall_s=1.0)
    pooled = aggregate([first, second])
    assert pooled["turns"] == 11
    assert pooled["errors"] == 1
    assert pooled["msg_per_s"] == pytest.approx(5.0)
    assert pooled["all"]["n"] == 10
    assert pooled["profiling"]["n"] == 6
    assert pooled["profiling"]["p50_ms"] == pytest.approx(30.0)
    assert pooled["p50_by_turn_ms"][0] == pytest.approx(10.0)
    assert [r["profiling_p50_ms"] for r in pooled["rounds"]] == pytest.approx([20.0, 40.0])


def test_p50_by_turn_is_empty_without_samples() -> None:
    assert p50_by_turn([]) == []


def test_compare_divides_rapport_by_starter_and_judges_targets() -> None:
    rapport = aggregate([_phase([0.01] * 2 + [0.02] * 3, wall_s=0.5)])
    starter = aggregate([_phase([0.04] * 5, wall_s=1.0)])
    comparison = compare(rapport, starter)
    assert comparison["ratios"]["p50_profiling"] == pytest.approx(0.5)
    assert comparison["ratios"]["msg_per_s"] == pytest.approx(2.0)
    assert comparison["targets"] == {"latency": True, "throughput": True}
    assert comparison["per_round"][0]["msg_per_s"] == pytest.approx(2.0)
    assert all_met({"1": {"comparison": comparison}})


def test_compare_reports_a_slower_bot_as_not_met() -> None:
    slow = aggregate([_phase([0.05] * 5, wall_s=2.0)])
    fast = aggregate([_phase([0.04] * 5, wall_s=1.0)])
    comparison = compare(slow, fast)
    assert comparison["targets"] == {"latency": False, "throughput": False}
    assert not all_met({"1": {"comparison": comparison}})


def test_the_load_generator_only_targets_loopback() -> None:
    assert webhook_url("http://127.0.0.1:5005/") == "http://127.0.0.1:5005/webhooks/rest/webhook"
    with pytest.raises(ValueError):
        webhook_url("http://10.0.0.5:5005")
