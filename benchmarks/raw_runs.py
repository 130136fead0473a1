"""The "raw" rows: in-process OpenVINO at its best for each workload, no server in between.

Each workload is measured under every compiled configuration given (LATENCY: one infer
request using both cores; THROUGHPUT: the plugin's optimal number of requests, one stream
each, kept busy by as many threads), and the best is kept. Tokenization and pooling are
included, as the servers do them too; JSON and HTTP are not, which is the point of the ratio.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from raw_model import RawEmbedder


@dataclass(frozen=True, kw_only=True)
class RawFigure:
    """One workload under one configuration."""

    config: str
    p50_ms: float
    texts_per_second: float
    tokens_per_second: float
    cpu_ms_per_text: float
    """Process CPU time (every thread: tokenizer, model, pooling) per text embedded."""


def measure_latency(embedder: RawEmbedder, texts: Sequence[str], seconds: float) -> tuple[float, float]:
    """(median milliseconds, CPU milliseconds per text) of one synchronous `embed(texts)`,
    repeated for `seconds` (>= 20 runs)."""
    request = embedder.new_request()
    embedder.embed(texts, request)  # first inference of a shape compiles kernels
    times: list[float] = []
    cpu = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 20:
        begin = time.perf_counter()
        embedder.embed(texts, request)
        times.append(time.perf_counter() - begin)
    cpu_ms = 1000.0 * (time.process_time() - cpu) / (len(times) * len(texts))
    times.sort()
    return 1000.0 * times[len(times) // 2], cpu_ms


def measure_throughput(
    embedder: RawEmbedder, batch: Sequence[str], seconds: float
) -> tuple[float, float, float]:
    """(texts/s, tokens/s, CPU ms per text) of `batch` embedded again and again by
    `optimal_requests` threads.

    OpenVINO releases the GIL during inference, so N threads with one infer request each keep
    N streams busy: the AsyncInferQueue pattern, with tokenization and pooling overlapping.
    """
    workers = max(1, embedder.optimal_requests)
    counts = [0] * workers
    tokens = [0] * workers
    start = threading.Barrier(workers + 1)
    stop = threading.Event()

    def work(slot: int) -> None:
        request = embedder.new_request()
        embedder.embed(batch, request)  # warm the shape before the clock starts
        start.wait()
        while not stop.is_set():
            _, used = embedder.embed(batch, request)
            counts[slot] += len(batch)
            tokens[slot] += used

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(workers)]
    for thread in threads:
        thread.start()
    start.wait()
    begin, cpu = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    # Batches finished after `stop` count, so divide by the time until the last one ended.
    elapsed = time.perf_counter() - begin
    cpu_ms = 1000.0 * (time.process_time() - cpu) / max(1, sum(counts))
    return sum(counts) / elapsed, sum(tokens) / elapsed, cpu_ms


def best_latency(
    embedders: Mapping[str, RawEmbedder], texts: Sequence[str], seconds: float, rounds: int = 3
) -> RawFigure:
    """The configuration with the lowest median latency for one request of `texts`; each
    configuration runs `rounds` times (interleaved, `seconds / rounds` each) and keeps its best."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):
        for name, embedder in embedders.items():
            figure = measure_latency(embedder, texts, seconds / rounds)
            best[name] = min(figure, best.get(name, figure))
    name = min(best, key=best.__getitem__)
    tokens = int(embedders[name].tokenize(texts)["attention_mask"].sum())
    p50, cpu_ms = best[name]
    return RawFigure(
        config=f"{name} sync",
        p50_ms=p50,
        texts_per_second=1000.0 * len(texts) / p50,
        tokens_per_second=1000.0 * tokens / p50,
        cpu_ms_per_text=cpu_ms,
    )


def best_throughput(
    embedders: Mapping[str, RawEmbedder], batch: Sequence[str], seconds: float, rounds: int = 3
) -> RawFigure:
    """The configuration with the most tokens per second for batches of `batch`; rounds as in
    `best_latency`."""
    best: dict[str, tuple[float, float, float]] = {}
    for _ in range(rounds):
        for name, embedder in embedders.items():
            figure = measure_throughput(embedder, batch, seconds / rounds)
            best[name] = max(figure, best.get(name, figure), key=lambda f: f[1])
    name = max(best, key=lambda n: best[n][1])
    requests = embedders[name].optimal_requests
    mode = "sync" if requests == 1 else f"async ×{requests}"
    return RawFigure(
        config=f"{name} {mode}, batch {len(batch)}",
        p50_ms=float("nan"),
        texts_per_second=best[name][0],
        tokens_per_second=best[name][1],
        cpu_ms_per_text=best[name][2],
    )
