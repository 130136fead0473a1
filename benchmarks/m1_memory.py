"""M1: ovserve's resident memory under requests of random lengths (1-512 tokens).

A fresh ovserve process gets `requests` single-text requests from 4 clients while its VmRSS
is sampled from /proc every 0.25 s. Reported: the largest RSS, and the least-squares slope of
RSS against completed requests over the second half of the run. "Flat" means that slope,
carried over the second half's requests, adds less than 5% of the mid-run RSS: growth that
would continue without bound shows as a steady slope there, while a warm-up that settles
does not.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from processes import RssSampler, ovserve_server
from table import Row

from ovserve.bench import LoadConfig, random_length_documents, run_load, summarize
from ovserve.bench.progress import Progress
from ovserve.bench.stats import slope

LIMIT_MIB = 1024.0
FLAT_SHARE = 0.05
CLIENTS = 4


async def run_m1(
    config_path: Path, requests: int, logs: Path, encoding_format: str, max_seconds: float
) -> Row:
    """Measure M1 against a new ovserve server on the workspace of `config_path`; sending stops
    after `max_seconds` (the row then says how many requests were sent)."""
    label = f"M1 {requests:,} req × 1-512 tok, {CLIENTS} clients"
    server, rest, _ = ovserve_server(config_path, logs / "ovserve-m1.log", grpc=False)
    texts = random_length_documents(requests, 1, 512, seed=1)
    config = LoadConfig(
        api_url=f"http://127.0.0.1:{rest}/v3/embeddings",
        model="sentence-transformers/all-MiniLM-L6-v2",
        concurrency=CLIENTS,
        encoding_format=encoding_format,
        duration=max_seconds,
    )
    print(f"  ovserve REST: {label} ...", file=sys.stderr, flush=True)
    try:
        async with server:
            progress = Progress(requests, enabled=False)
            sampler = RssSampler(server.pid, progress)
            sampling = asyncio.create_task(sampler.run())
            try:
                result = await run_load([[t] for t in texts], config, progress=progress)
            finally:
                sampling.cancel()
                await asyncio.gather(sampling, return_exceptions=True)
    except RuntimeError as exc:
        return Row(
            workload=label, system="ovserve REST", figure=None, unit="", note=f"n/a ({exc})".split("\n")[0]
        )
    summary = summarize(result)
    sent = summary.requests  # fewer than asked when max_seconds stopped the run
    samples = sampler.samples
    if not samples:
        return Row(workload=label, system="ovserve REST", figure=None, unit="", note="no RSS sample")
    peak = max(s[2] for s in samples)
    half = [s for s in samples if s[1] >= sent / 2]
    per_request = slope([s[1] for s in half], [s[2] for s in half]) if len(half) >= 2 else 0.0
    middle = half[0][2] if half else samples[-1][2]
    growth = per_request * (sent / 2)
    flat = growth <= FLAT_SHARE * middle
    verdicts = []
    if peak > LIMIT_MIB:
        verdicts.append(f"{peak - LIMIT_MIB:.0f} MiB over")
    if not flat:
        verdicts.append("not flat")
    failed = f"; {summary.failed} failed: {next(iter(summary.errors))}" if summary.failed else ""
    if sent < requests:
        failed += f"; stopped after {max_seconds:.0f} s: {sent:,} requests sent"
    return Row(
        workload=label,
        system="ovserve REST",
        figure=peak,
        unit="MiB max RSS",
        target=f"≤ {LIMIT_MIB:.0f} MiB, flat",
        verdict="pass" if not verdicts else "short: " + ", ".join(verdicts),
        note=(
            f"start {samples[0][2]:.0f} MiB, mid {middle:.0f} MiB, last-half slope "
            f"{1000 * per_request:+.1f} MiB/1k req; {summary.documents_per_second:.1f} req/s{failed}"
        ),
        client_cpu=summary.client_cpu_share,
    )
