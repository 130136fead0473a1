"""The comparison table: one row per (workload, system), with ratio to raw, target and verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(kw_only=True)
class Row:
    """One measured (or unavailable) figure."""

    workload: str
    system: str
    figure: float | None
    """p50 ms for latency workloads, texts/s or tokens/s for throughput ones, MiB for M1."""
    unit: str
    ratio: float | None = None
    target: str = ""
    verdict: str = ""
    note: str = ""
    client_cpu: float | None = None
    cpu_ms: float | None = None
    """CPU milliseconds per request of the serving process (raw: of this process, per request's
    worth of texts), over every timed round."""
    overhead_ms: float | None = None
    """`cpu_ms` minus raw's CPU per request's worth of texts: what the server spends beyond
    the model (tokenizer, model and pooling as raw runs them)."""
    path_overhead_ms: float | None = None
    """`cpu_ms` minus raw's at the servers' own `plugin_config`: the server's path alone,
    without what the configured streams cost beyond raw's best ones."""


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def render(rows: list[Row]) -> str:
    """A Markdown table (it reads fine in a terminal and pastes into the README as is)."""
    header = [
        "workload",
        "system",
        "figure",
        "vs raw",
        "target",
        "result",
        "CPU/req",
        "overhead/req",
        "same streams",
        "client CPU",
        "notes",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        figure = "n/a" if row.figure is None else f"{fmt(row.figure)} {row.unit}"
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}×"
        cpu = "" if row.client_cpu is None else f"{100 * row.client_cpu:.0f}%"
        per_request = "" if row.cpu_ms is None else f"{row.cpu_ms:.2f} ms"
        overhead = "" if row.overhead_ms is None else f"{row.overhead_ms:+.2f} ms"
        path = "" if row.path_overhead_ms is None else f"{row.path_overhead_ms:+.2f} ms"
        cells = [
            row.workload,
            row.system,
            figure,
            ratio,
            row.target,
            row.verdict,
            per_request,
            overhead,
            path,
            cpu,
            row.note,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def latency_verdict(row: Row, raw_ms: float, allowance_ms: float, baseline_ms: float | None = None) -> None:
    """W1: p50 ≤ raw + allowance and, when `baseline_ms` is given, ≤ the baseline's p50."""
    limit = raw_ms + allowance_ms
    row.ratio = None if row.figure is None else row.figure / raw_ms
    row.target = f"≤ {limit:.2f} ms (raw + {allowance_ms} ms)"
    if baseline_ms is not None:
        row.target += f", ≤ baseline {baseline_ms:.2f} ms"
        limit = min(limit, baseline_ms)
    if row.figure is not None:
        short = row.figure - limit
        row.verdict = "pass" if short <= 0 else f"short by {short:.2f} ms"


def overhead_verdict(row: Row, limit_ms: float) -> None:
    """Add `overhead ≤ limit_ms` (server CPU per request beyond raw's) to the row's target."""
    row.target += f", overhead ≤ {limit_ms} ms"
    if row.overhead_ms is None or row.overhead_ms <= limit_ms:
        return
    miss = f"overhead {row.overhead_ms:.2f} ms"
    row.verdict = "short: " + miss if row.verdict == "pass" else f"{row.verdict}, {miss}"


def throughput_verdict(
    row: Row, raw: float, floor: float, baseline: float | None = None, over: float = 0.0
) -> None:
    """Throughput ≥ `floor` × raw and, when `baseline` is given, ≥ `over` × baseline."""
    row.ratio = None if row.figure is None else row.figure / raw
    row.target = f"≥ {floor}× raw" + (f", ≥ {over}× baseline" if over else "")
    if row.figure is None:
        return
    misses = []
    if row.figure < floor * raw:
        misses.append(f"{row.figure / raw:.2f}× raw")
    if over and baseline:
        if row.figure < over * baseline:
            misses.append(f"{row.figure / baseline:.2f}× baseline")
        else:
            row.note = (row.note + "; " if row.note else "") + f"{row.figure / baseline:.2f}× baseline"
    row.verdict = "pass" if not misses else "short: " + ", ".join(misses)
