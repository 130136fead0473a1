"""Statistics on hand-computed numbers, and the reported figures of a known run."""

from __future__ import annotations

import math

import pytest

from ovserve.bench.load import LoadResult, RequestRecord, arrival_offsets
from ovserve.bench.report import format_summary, summarize, to_json
from ovserve.bench.stats import mean, percentile, slope
from ovserve.bench.transport import Outcome


def test_percentiles_interpolate_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    assert percentile(values, 99) == pytest.approx(3.97)
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile(values, 101)


def test_mean_and_slope() -> None:
    assert mean([1.0, 2.0, 6.0]) == 3.0
    assert math.isnan(mean([]))
    assert slope([0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 5.0, 7.0]) == pytest.approx(2.0)
    assert slope([1.0, 1.0], [5.0, 9.0]) == 0.0


def test_poisson_arrivals() -> None:
    assert arrival_offsets(3, math.inf, 0) == [0.0, 0.0, 0.0]
    offsets = arrival_offsets(4000, 100.0, 1)
    assert offsets[0] == 0.0
    assert offsets == sorted(offsets)
    assert offsets[-1] / 3999 == pytest.approx(0.01, rel=0.1)  # mean gap 1/rate
    assert offsets == arrival_offsets(4000, 100.0, 1)


def test_summary_of_a_known_run() -> None:
    ok = [
        RequestRecord(documents=2, latency=ms / 1000, outcome=Outcome(ok=True, prompt_tokens=10))
        for ms in (10, 20, 30)
    ]
    bad = RequestRecord(documents=2, latency=0.001, outcome=Outcome(ok=False, error="HTTP 500: x"))
    result = LoadResult(records=[*ok, bad], wall_seconds=2.0, cpu_seconds=0.5, errors={"HTTP 500: x": 1})
    summary = summarize(result)
    assert (summary.requests, summary.succeeded, summary.failed) == (4, 3, 1)
    assert (summary.documents, summary.documents_ok, summary.tokens) == (8, 6, 30)
    assert summary.success_rate == 0.75
    assert summary.tokens_per_second == 15.0
    assert summary.requests_per_second == 1.5
    assert summary.documents_per_second == 3.0
    assert summary.mean_ms == pytest.approx(20.0)
    assert summary.median_ms == pytest.approx(20.0)
    assert summary.p99_ms == pytest.approx(29.8)
    assert summary.client_cpu_share == 0.25
    text = format_summary(summary)
    assert "Success rate: 75.0%. (3/4)" in text
    assert "1 × HTTP 500: x" in text


def test_summary_without_usage_and_without_successes() -> None:
    records = [RequestRecord(documents=1, latency=0.01, outcome=Outcome(ok=True))]
    assert summarize(LoadResult(records=records, wall_seconds=1.0)).tokens is None
    failed = [RequestRecord(documents=1, latency=0.01, outcome=Outcome(ok=False, error="e"))]
    summary = summarize(LoadResult(records=failed, wall_seconds=1.0))
    assert math.isnan(summary.median_ms)
    assert to_json(summary, {})["results"]["median_ms"] is None  # type: ignore[index]
