"""The workloads of issue 8, their table rows and their verdicts against the targets.

The targets are those of issue 16 (fast CPUs): W1 p50 at or below the baseline's and within
raw + 1.0 ms; W2 ≥ 0.45× raw with a server CPU overhead ≤ 0.4 ms per request; W3 and W4
≥ 0.95× raw and at least the baseline's throughput.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from raw_runs import RawFigure
from table import Row, latency_verdict, overhead_verdict, throughput_verdict

from ovserve.bench import Summary, synthetic_documents
from tests.support.models import exported_workspace

W1_ALLOWANCE_MS = 1.0
W2_RAW_FLOOR = 0.45
W2_OVERHEAD_MS = 0.4
BATCH_RAW_FLOOR = 0.95


@dataclass(frozen=True, kw_only=True)
class Workload:
    """`clients` concurrent clients each sending `texts` texts of `tokens` tokens per request."""

    name: str
    clients: int
    texts: int
    tokens: int
    latency: bool = False
    raw_batch: int = 0
    """Texts per raw batch (default: `texts`); W2 compares with raw batches of 64."""

    @property
    def label(self) -> str:
        return f"{self.name} {self.clients}×{self.texts}×{self.tokens} tok"


WORKLOADS = (
    Workload(name="W1", clients=1, texts=1, tokens=8, latency=True),
    Workload(name="W2", clients=64, texts=1, tokens=8, raw_batch=64),
    Workload(name="W3", clients=4, texts=32, tokens=128),
    Workload(name="W4", clients=1, texts=32, tokens=256),
)


def request_groups(workload: Workload, count: int = 60_000) -> list[list[str]]:
    """`count` requests of `workload.texts` texts each, drawn in turn from 512 synthetic
    documents of `workload.tokens` tokens (seed 8): the A/B tools' timed load."""
    texts = synthetic_documents(512, workload.tokens, seed=8)
    return [
        [texts[(i * workload.texts + j) % len(texts)] for j in range(workload.texts)] for i in range(count)
    ]


def score(workload: Workload, summary: Summary) -> float:
    """Higher is better: -p50 for latency workloads, texts/s or tokens/s for the others."""
    if summary.succeeded == 0:
        return -math.inf
    if workload.latency:
        return -summary.median_ms
    if workload.texts == 1:
        return summary.documents_per_second
    return summary.tokens_per_second or 0.0


def server_row(
    workload: Workload, system: str, summary: Summary | None, note: str = "", cpu_ms: float | None = None
) -> Row:
    """The row of one server; `cpu_ms` is its process's CPU time per successful request."""
    if summary is None or summary.succeeded == 0:
        first = next(iter(summary.errors), "no request succeeded") if summary else note
        return Row(
            workload=workload.label, system=system, figure=None, unit="", note=note or f"failed: {first}"
        )
    failed = (
        f"{summary.failed} of {summary.requests} failed: {next(iter(summary.errors))}"
        if summary.failed
        else ""
    )
    if workload.latency:
        figure, unit = summary.median_ms, "ms p50"
    elif workload.texts == 1:
        figure, unit = summary.documents_per_second, "texts/s"
    else:
        figure, unit = summary.tokens_per_second or 0.0, "tok/s"
    return Row(
        workload=workload.label,
        system=system,
        figure=figure,
        unit=unit,
        note=failed,
        client_cpu=summary.client_cpu_share,
        cpu_ms=cpu_ms,
    )


def raw_row(workload: Workload, figure: RawFigure, system: str = "raw OpenVINO") -> Row:
    if workload.latency:
        value, unit = figure.p50_ms, "ms p50"
    elif workload.texts == 1:
        value, unit = figure.texts_per_second, "texts/s"
    else:
        value, unit = figure.tokens_per_second, "tok/s"
    return Row(
        workload=workload.label,
        system=system,
        figure=value,
        unit=unit,
        ratio=1.0,
        note=figure.config,
        cpu_ms=figure.cpu_ms_per_text * workload.texts,
    )


def configured_row(workload: Workload, figure: RawFigure, best: Row) -> Row:
    """Raw at the workspace's own `plugin_config`: the streams the servers run, next to `best`."""
    row = raw_row(workload, figure, "raw OpenVINO, servers' plugin_config")
    assert best.figure is not None
    assert row.figure is not None
    row.ratio = row.figure / best.figure
    row.verdict = "reference"
    return row


def verdicts(
    rows: dict[str, dict[str, Row]],
    raw: dict[str, RawFigure],
    as_configured: dict[str, RawFigure] | None = None,
) -> list[Row]:
    """Every workload's rows with ratios, overheads and verdicts.

    A server's `overhead_ms` is against raw's best configuration, the issue's figure;
    `path_overhead_ms` is against raw at the servers' own `plugin_config` (`as_configured`),
    which leaves out what the configured streams cost beyond the best ones.
    """
    table: list[Row] = []
    for w in WORKLOADS:
        if w.name not in raw:
            continue  # not run (compare.py --workloads)
        raw_value = raw_row(w, raw[w.name])
        table.append(raw_value)
        same = None
        if as_configured and w.name in as_configured:
            same = configured_row(w, as_configured[w.name], raw_value)
            table.append(same)
        baseline = next((r for s, r in rows[w.name].items() if s.startswith("baseline")), None)
        for system, row in rows[w.name].items():
            assert raw_value.figure is not None
            if row.cpu_ms is not None and raw_value.cpu_ms is not None:
                row.overhead_ms = row.cpu_ms - raw_value.cpu_ms
            if row.cpu_ms is not None and same is not None and same.cpu_ms is not None:
                row.path_overhead_ms = row.cpu_ms - same.cpu_ms
            base = baseline.figure if baseline else None
            if w.latency:
                latency_verdict(row, raw_value.figure, W1_ALLOWANCE_MS, base)
            elif system.startswith("baseline"):
                row.ratio = None if row.figure is None else row.figure / raw_value.figure
                row.verdict = "reference"
            elif w.name == "W2":
                # No throughput floor against the baseline here: it only reports the ratio.
                throughput_verdict(row, raw_value.figure, W2_RAW_FLOOR, base, 0.0)
                if base and row.figure is not None:
                    row.note = (row.note + "; " if row.note else "") + f"{row.figure / base:.2f}× baseline"
                overhead_verdict(row, W2_OVERHEAD_MS)
            else:
                throughput_verdict(row, raw_value.figure, BATCH_RAW_FLOOR, base, 1.0)
            if system.startswith("baseline") and w.latency:
                row.verdict, row.target = "reference", ""
            table.append(row)
    return table


def served_workspace(weight_format: str = "int8", execution_precision: str = "auto") -> Path:
    """The `config.json` of the workspace the server benchmarks serve: the versioned (OVMS seed)
    export of the default model, cached under `build/test-cache/`.

    max_length 512: M1 sends up to 512 tokens, which the default export (256) would reject.
    "auto" is the export's default: left out, so the cache key stays that of `make test`'s export.
    """
    chosen: dict[str, object] = {}
    if execution_precision != "auto":
        chosen["execution_precision"] = execution_precision
    return exported_workspace(weight_format, "versioned", source=None, max_length=512, **chosen)
