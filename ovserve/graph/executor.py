"""The bounded thread pool calculators run on, and the one way to get onto it from async code.

Calculator work (tokenization, inference, pooling) is blocking, so it never runs on the
event loop. ovserve owns these threads (not the loop's default executor) so their number is
set by configuration and shutdown is ours to order. `run` copies the caller's contextvars
into the worker (request ids and logging context survive the hop), as Starlette's
`run_in_threadpool` does.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from ovserve.errors import Unavailable

P = ParamSpec("P")
T = TypeVar("T")


GRAPH_THREADS_PER_CPU = 8
MIN_GRAPH_THREADS = 64


def default_workers() -> int:
    """Worker threads when the configuration does not say: 8 per CPU, at least 64.

    Far more than the cores, on purpose. A graph run spends most of its time blocked: in
    OpenVINO (tokenizer and model calls release the GIL) or waiting in the feature-extraction
    batcher for a batch that holds its rows (`calculators.batching`). The batcher can merge
    only the requests that are inside a graph run, so the pool must admit at least as many
    runs as one batch should hold (64 rows by default): with one thread per core, 64
    concurrent clients were served two at a time and never merged. Threads that wait cost a
    stack each and no CPU; the device's concurrency is bounded elsewhere (the batcher's
    infer requests), not by this pool. Graphs that take requests at their entry
    (`ovserve.graph.entry`) need few of these threads: one job carries many requests.
    """
    return max(MIN_GRAPH_THREADS, GRAPH_THREADS_PER_CPU * (os.cpu_count() or 2))


class NodeExecutor:
    """A named, bounded `ThreadPoolExecutor`. Thread-safe; share one per server.

    Args:
        max_workers: upper bound of concurrent calculator runs (default `default_workers()`).
    """

    def __init__(self, max_workers: int | None = None, *, name: str = "ovserve-graph") -> None:
        self.max_workers = max_workers or default_workers()
        self._pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix=name)
        self._closed = False

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(*args, **kwargs)` on a pool thread with the caller's contextvars; await it.

        Must be called from a running event loop. Cancelling the await does not stop `fn`
        (threads cannot be interrupted); its result is then discarded.

        Raises:
            Unavailable: the executor was shut down.
            Whatever `fn` raises.
        """
        if self._closed:
            raise Unavailable("the graph executor is shut down")
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        call = functools.partial(ctx.run, fn, *args, **kwargs)
        try:
            # Submission happens here, synchronously; only it raises for a shut-down pool.
            future = loop.run_in_executor(self._pool, call)
        except RuntimeError as exc:
            raise Unavailable("the graph executor is shut down") from exc
        return await future

    def submit(self, fn: Callable[[], object], /) -> None:
        """Start `fn()` on a pool thread and return at once (any thread; no contextvars copied).

        For jobs that report their own outcome (`ovserve.graph.entry`): what `fn` raises is lost,
        so `fn` must catch everything it can.

        Raises:
            Unavailable: the executor was shut down.
        """
        if self._closed:
            raise Unavailable("the graph executor is shut down")
        try:
            self._pool.submit(fn)
        except RuntimeError as exc:
            raise Unavailable("the graph executor is shut down") from exc

    def shutdown(self, *, wait: bool = True) -> None:
        """Refuse new work; with `wait`, block until queued work is done. Idempotent."""
        self._closed = True
        self._pool.shutdown(wait=wait)

    async def __aenter__(self) -> NodeExecutor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.shutdown)
