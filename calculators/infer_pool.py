"""A pool of `InferRequest`s over one shared `CompiledModel`.

A compiled model is shared by every run of a graph (it is a side packet), but an
`InferRequest` holds mutable input/output tensors and, for tokenizers, variable state, so a
request must serve one run at a time. Requests are created on demand and kept for reuse, so the
pool grows to the number of runs that were ever in flight at once (bounded by ovserve's worker
threads) and never blocks.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import openvino


class InferRequestPool:
    """Lends `InferRequest`s of `compiled`; thread-safe."""

    def __init__(self, compiled: openvino.CompiledModel) -> None:
        self.compiled = compiled
        self._idle: queue.SimpleQueue[openvino.InferRequest] = queue.SimpleQueue()

    @contextmanager
    def request(self) -> Iterator[openvino.InferRequest]:
        """A request for the caller's exclusive use until the block exits.

        Output tensors alias the request's memory: copy what you keep before leaving the block.
        """
        try:
            req = self._idle.get_nowait()
        except queue.Empty:
            req = self.compiled.create_infer_request()
        try:
            yield req
        finally:
            self._idle.put(req)
