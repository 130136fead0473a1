"""Figures of a load run, as text for people and as JSON for scripts.

Throughputs count successful requests only and divide by the wall time of the whole timed run
(first send to last answer), so failures lower them. Latencies are over successful requests.
`client_cpu_share` is the client's CPU time over wall time: 1.0 means the client kept one core
busy, which on a small machine is CPU the server did not get.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ovserve.bench.load import LoadResult
from ovserve.bench.stats import mean, percentile


@dataclass(frozen=True, kw_only=True)
class Summary:
    """What `ovserve bench` prints. Latencies in milliseconds; NaN when no request succeeded."""

    requests: int
    succeeded: int
    documents: int
    documents_ok: int
    tokens: int | None
    """Sum of `usage.prompt_tokens` over successful requests; None when any answer lacked it."""
    wall_seconds: float
    tokens_per_second: float | None
    requests_per_second: float
    documents_per_second: float
    mean_ms: float
    median_ms: float
    p99_ms: float
    client_cpu_share: float
    errors: dict[str, int] = field(default_factory=dict)
    other_errors: int = 0

    @property
    def success_rate(self) -> float:
        """Succeeded / sent, in 0..1 (1.0 for an empty run)."""
        return self.succeeded / self.requests if self.requests else 1.0

    @property
    def failed(self) -> int:
        return self.requests - self.succeeded


def summarize(result: LoadResult) -> Summary:
    """Reduce raw records to the reported figures."""
    ok = [r for r in result.records if r.outcome.ok]
    latencies = [r.latency * 1000.0 for r in ok]
    counted = [r.outcome.prompt_tokens for r in ok]
    tokens = None if any(t is None for t in counted) else sum(t for t in counted if t is not None)
    wall = result.wall_seconds
    docs_ok = sum(r.documents for r in ok)

    def rate(amount: float) -> float:
        return amount / wall if wall > 0 else 0.0

    return Summary(
        requests=len(result.records),
        succeeded=len(ok),
        documents=sum(r.documents for r in result.records),
        documents_ok=docs_ok,
        tokens=tokens,
        wall_seconds=wall,
        tokens_per_second=None if tokens is None else rate(tokens),
        requests_per_second=rate(len(ok)),
        documents_per_second=rate(docs_ok),
        mean_ms=mean(latencies),
        median_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        client_cpu_share=result.cpu_seconds / wall if wall > 0 else 0.0,
        errors=dict(result.errors),
        other_errors=result.other_errors,
    )


def format_summary(summary: Summary) -> str:
    """Human-readable lines, in the order of OVMS's benchmark client plus ovserve's extras."""
    tokens = "n/a (no usage in the answers)" if summary.tokens is None else str(summary.tokens)
    tps = "n/a" if summary.tokens_per_second is None else f"{summary.tokens_per_second:.1f}"
    lines = [
        f"Number of documents: {summary.documents}",
        f"Tokens: {tokens}",
        f"Success rate: {100.0 * summary.success_rate:.1f}%. ({summary.succeeded}/{summary.requests})",
        f"Throughput - Tokens per second: {tps}",
        f"Throughput - Requests per second: {summary.requests_per_second:.2f}",
        f"Throughput - Documents per second: {summary.documents_per_second:.2f}",
        f"Mean latency: {summary.mean_ms:.2f} ms",
        f"Median latency: {summary.median_ms:.2f} ms",
        f"P99 latency: {summary.p99_ms:.2f} ms",
    ]
    if summary.tokens is not None and summary.documents_ok:
        lines.append(f"Average document length: {summary.tokens / summary.documents_ok:.1f} tokens")
    lines.append(f"Duration: {summary.wall_seconds:.2f} s")
    lines.append(f"Client CPU share: {100.0 * summary.client_cpu_share:.1f}% of one core")
    if summary.failed:
        lines.append(f"Errors: {summary.failed}; first distinct messages:")
        lines += [f"  {count} × {text}" for text, count in summary.errors.items()]
        if summary.other_errors:
            lines.append(f"  {summary.other_errors} × (other messages)")
    return "\n".join(lines)


def to_json(summary: Summary, settings: dict[str, object]) -> dict[str, object]:
    """A JSON-ready dict: the run's `settings` and every figure (NaN becomes null)."""
    figures = asdict(summary)
    figures["success_rate"] = summary.success_rate
    for key, value in figures.items():
        if isinstance(value, float) and value != value:
            figures[key] = None
    return {"settings": settings, "results": figures}


def write_json(path: Path, summary: Summary, settings: dict[str, object]) -> None:
    """Write `to_json` to `path` (UTF-8, indented)."""
    path.write_text(json.dumps(to_json(summary, settings), indent=2) + "\n", encoding="utf-8")
