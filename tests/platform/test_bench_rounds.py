"""How `python -m bench ack` turns interleaved rounds into one figure per server."""

from __future__ import annotations

import pytest

from bench.ack import Run, paired_rps_ratio, pooled_summary
from bench.load import LevelResult


def _run(requests: int, elapsed_s: float, *, stolen_s: float = 0.0, slow_ms: float = 10.0) -> Run:
    latencies = [slow_ms] * requests
    return Run(LevelResult(50, requests, elapsed_s, latencies, {200: requests}), stolen_s)


def test_the_throughput_ratio_is_the_median_of_each_rounds_pair() -> None:
    # Round 2's baseline ran through a burst of steal (500 req/s instead of 1000): pairing
    # rounds keeps that one round from deciding the result.
    baseline = [_run(1000, 1.0), _run(1000, 2.0), _run(1000, 1.0)]
    ours = [_run(1000, 2.0), _run(1000, 2.5), _run(1000, 1.8)]
    # per round: 500/1000, 400/500, 555.6/1000
    assert paired_rps_ratio(ours, baseline) == 0.56


def test_no_ratio_when_the_baseline_answered_nothing() -> None:
    assert paired_rps_ratio([_run(10, 1.0)], [_run(0, 1.0)]) is None


def test_rounds_pool_into_one_summary_with_the_steal_seen() -> None:
    runs = [_run(100, 1.0, stolen_s=0.25, slow_ms=5.0), _run(300, 1.0, slow_ms=20.0)]
    summary = pooled_summary(runs)
    assert summary["requests"] == 400
    assert summary["rps"] == pytest.approx(200.0)  # 400 answers over 2 s of running
    assert summary["rounds_rps"] == [100.0, 300.0]
    assert summary["p50_ms"] == 20.0  # pooled: three in four took 20 ms
    assert summary["statuses"] == {"200": 400}
    assert summary["stolen_s"] == 0.25
    assert summary["stolen_share"] == 0.125
