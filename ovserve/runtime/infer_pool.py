"""A bounded pool of `InferRequest`s over one shared `CompiledModel`.

A compiled model is shared by every run of a graph (it is a side packet), but an
`InferRequest` holds mutable input/output tensors and, for tokenizers, variable state, so a
request must serve one run at a time. Requests are created on demand, up to `limit`, and kept
for reuse; a caller that finds all `limit` busy waits for one. The bound matters: each request
keeps the activation memory of the last shape it ran, and more requests than the device runs at
once add memory, not speed.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import openvino


def optimal_requests(compiled: openvino.CompiledModel) -> int:
    """The compiled model's OPTIMAL_NUMBER_OF_INFER_REQUESTS (1 if the device does not say)."""
    try:
        return max(1, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
    except (RuntimeError, TypeError, ValueError):
        return 1


class InferRequestPool:
    """Lends at most `limit` `InferRequest`s of `compiled` at once; thread-safe."""

    def __init__(self, compiled: openvino.CompiledModel, *, limit: int) -> None:
        if limit < 1:
            raise ValueError("an infer request pool needs a limit of at least 1")
        self.compiled = compiled
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._idle: queue.SimpleQueue[openvino.InferRequest] = queue.SimpleQueue()

    @contextmanager
    def request(self, waited: Callable[[float], None] | None = None) -> Iterator[openvino.InferRequest]:
        """A request for the caller's exclusive use until the block exits (waits while all
        `limit` are lent); `waited(seconds)` is told how long that took, when given.

        Output tensors alias the request's memory: copy what you keep before leaving the block.
        """
        started = time.perf_counter()
        with self._slots:
            if waited is not None:
                waited(time.perf_counter() - started)
            try:
                req = self._idle.get_nowait()
            except queue.Empty:
                req = self.compiled.create_infer_request()
            try:
                yield req
            finally:
                self._idle.put(req)
