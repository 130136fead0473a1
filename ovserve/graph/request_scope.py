"""Per-request facts that cross the layers: a limit the front end sets, timings the work reports.

A front end opens one `RequestScope` per client request (`entered`); it is a context variable,
so it follows the request from the event loop into the graph executor's worker thread (the
executor copies the caller's context) without every signature in between carrying it.
Calculators read `current()` (None outside a request: tests, tools, warm-up) and add to it.

Writers: one request's graph run executes its nodes one after the other on one worker
thread, so a scope is never written by two threads at once; the front end reads it after the
run has returned.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from ovserve.errors import InvalidArgument


@dataclass
class RequestScope:
    """One client request.

    Attributes:
        max_tokens: refuse the request when its documents hold more tokens (0: no limit).
        queue_s: waiting for a graph worker thread and for a batch slot.
        tokenization_s: running the tokenizer.
        inference_s: running the model (the whole merged batch the request's rows were in).
        graph_runs: graph runs made for the request (timing headers only when > 0).
        servable: the model or graph the request was admitted to (`ovserve.admission`); empty
            for a request that runs none (metadata, health). The access log names it.
    """

    max_tokens: int = 0
    queue_s: float = 0.0
    tokenization_s: float = 0.0
    inference_s: float = 0.0
    graph_runs: int = 0
    servable: str = ""

    def timings_ms(self) -> dict[str, float]:
        """`tokenization`, `queue`, `inference` in ms; empty when the request ran no graph."""
        if not self.graph_runs:
            return {}
        return {
            "tokenization": self.tokenization_s * 1000,
            "queue": self.queue_s * 1000,
            "inference": self.inference_s * 1000,
        }

    def check_tokens(self, count: int) -> None:
        """Raises `InvalidArgument` when `count` tokens exceed `max_tokens`."""
        if self.max_tokens and count > self.max_tokens:
            raise InvalidArgument(
                f"request has {count} tokens, more than the limit of {self.max_tokens} per request "
                "(--max_tokens_per_request); split it into smaller requests"
            )


_CURRENT: ContextVar[RequestScope | None] = ContextVar("ovserve_request_scope", default=None)


def current() -> RequestScope | None:
    """The scope of the request being served in this context, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def entered(scope: RequestScope) -> Iterator[RequestScope]:
    """Make `scope` current for the block (and for work the block hands to other threads)."""
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)
