"""The load loop: send pre-encoded requests with Poisson arrivals and a cap on requests in flight.

`run_load` is the in-process API (benchmarks/compare.py uses it, so every row of its table is
measured by the same client); `ovserve bench` is a thin CLI around it. One asyncio loop and
`concurrency` worker coroutines share an index into the request list: a worker takes the next
request, waits for its arrival time (none at `request_rate=inf`), sends it and records the
latency from send to full answer. Queueing inside the client is therefore not counted as
latency, as in OVMS's benchmark client.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ovserve.bench.progress import Progress
from ovserve.bench.transport import (
    GrpcTransport,
    HttpTransport,
    Outcome,
    Transport,
    encode_kserve,
    encode_openai,
    encode_rerank,
    is_rerank_url,
)

MAX_ERROR_MESSAGES = 5
"""Distinct error texts kept verbatim; further distinct ones are only counted."""


@dataclass(frozen=True, kw_only=True)
class LoadConfig:
    """Where and how to send.

    Attributes:
        api_url: OpenAI embeddings URL (REST mode), or a Cohere rerank URL (`…/rerank`: each
            request ranks its documents against `query`); ignored when `grpc_url` is set.
        grpc_url: `host:port` of a KServe v2 gRPC server; selects gRPC mode.
        model: the `model` field (REST) or `model_name` (gRPC).
        concurrency: most requests in flight at once (>= 1).
        request_rate: mean arrivals per second (Poisson); `math.inf` sends as fast as allowed.
        encoding_format: `float` or `base64` (REST only).
        timeout: seconds before one request counts as failed.
        warmup: requests sent (one at a time) and discarded before the timed run.
        seed: seeds the arrival times, so runs are repeatable.
        duration: if set, no request is sent after this many seconds of the timed run (the
            ones in flight finish); requests not sent are left out of the result.
        query: the query of rerank requests.
    """

    api_url: str = "http://localhost:8000/v3/embeddings"
    grpc_url: str | None = None
    model: str = "sentence-transformers/all-MiniLM-L6-v2"
    concurrency: int = 1
    request_rate: float = math.inf
    encoding_format: str = "float"
    timeout: float = 300.0
    warmup: int = 0
    seed: int = 0
    duration: float | None = None
    query: str = "what is the capital of france?"


@dataclass(frozen=True, kw_only=True)
class RequestRecord:
    """One timed request: its documents, latency in seconds and outcome."""

    documents: int
    latency: float
    outcome: Outcome


@dataclass(kw_only=True)
class LoadResult:
    """Raw measurements of a run; `ovserve.bench.report.summarize` turns them into figures."""

    records: list[RequestRecord] = field(default_factory=list)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    """First `MAX_ERROR_MESSAGES` distinct error texts with their counts."""
    other_errors: int = 0
    """Failures whose text was not kept."""


def arrival_offsets(count: int, rate: float, seed: int) -> list[float]:
    """Send times in seconds from the start: exponential gaps of mean 1/`rate` (a Poisson
    process), first request at 0; all zeros when `rate` is infinite."""
    if math.isinf(rate):
        return [0.0] * count
    if rate <= 0:
        raise ValueError(f"request_rate must be > 0, got {rate}")
    rng = random.Random(seed)
    offsets, now = [], 0.0
    for _ in range(count):
        offsets.append(now)
        now += rng.expovariate(rate)
    return offsets


def encode_requests(batches: Sequence[Sequence[str]], config: LoadConfig) -> list[bytes]:
    """Pre-encode every request body for the transport `config` selects."""
    if config.grpc_url:
        return [encode_kserve(batch, config.model) for batch in batches]
    if is_rerank_url(config.api_url):
        return [encode_rerank(batch, config.model, config.query) for batch in batches]
    return [encode_openai(batch, config.model, config.encoding_format) for batch in batches]


def open_transport(config: LoadConfig) -> Transport:
    """The transport for `config`; must be closed by the caller (inside the running loop)."""
    if config.grpc_url:
        return GrpcTransport(config.grpc_url, timeout=config.timeout)
    return HttpTransport(config.api_url, concurrency=config.concurrency, timeout=config.timeout)


async def run_load(
    batches: Sequence[Sequence[str]],
    config: LoadConfig,
    *,
    progress: Progress | None = None,
) -> LoadResult:
    """Send one request per batch of documents and measure each.

    Never raises for failed requests: they are counted in the result. Raises only for a bad
    `config` (ValueError).
    """
    if config.concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {config.concurrency}")
    bodies = encode_requests(batches, config)
    sizes = [len(batch) for batch in batches]
    offsets = arrival_offsets(len(bodies), config.request_rate, config.seed)
    transport = open_transport(config)
    result = LoadResult()
    try:
        for i in range(min(config.warmup, len(bodies))):
            await transport.send(bodies[i], sizes[i])
        records: list[RequestRecord | None] = [None] * len(bodies)
        next_index = 0
        loop = asyncio.get_running_loop()
        cpu0, start = time.process_time(), loop.time()
        stop_at = math.inf if config.duration is None else start + config.duration

        async def worker() -> None:
            nonlocal next_index
            while next_index < len(bodies) and loop.time() < stop_at:
                i = next_index
                next_index += 1
                if start + offsets[i] >= stop_at:
                    break
                delay = start + offsets[i] - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent = time.perf_counter()
                try:
                    outcome = await transport.send(bodies[i], sizes[i])
                except Exception as exc:  # a transport bug must cost one request, not the run
                    outcome = Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
                records[i] = RequestRecord(
                    documents=sizes[i], latency=time.perf_counter() - sent, outcome=outcome
                )
                _note_error(result, outcome)
                if progress is not None:
                    progress.advance(failed=not outcome.ok)

        await asyncio.gather(*(worker() for _ in range(min(config.concurrency, len(bodies)))))
        result.wall_seconds = loop.time() - start
        result.cpu_seconds = time.process_time() - cpu0
        result.records = [r for r in records if r is not None]
    finally:
        await transport.close()
        if progress is not None:
            progress.close()
    return result


def _note_error(result: LoadResult, outcome: Outcome) -> None:
    if outcome.ok:
        return
    text = outcome.error or "unknown error"
    if text in result.errors:
        result.errors[text] += 1
    elif len(result.errors) < MAX_ERROR_MESSAGES:
        result.errors[text] = 1
    else:
        result.other_errors += 1
