"""Admission control and per-request limits of the data plane, the same for REST and gRPC.

One `RequestGuard` lives in the data plane, which passes every inference call through
`RequestGuard.run`. It lives on the event loop (no locks: only the loop thread touches it).

* Admission: at most `RequestLimits.inflight_limit(name)` requests per servable are being
  served; one more raises `ResourceExhausted` at once (REST 429 + `Retry-After`, gRPC
  RESOURCE_EXHAUSTED), never after waiting. This bounds the work queued behind the graph
  executor and model threads, as TEI's `--max-concurrent-requests` does. An accepted request
  always runs to its end (or to the timeout).
* Timeout: with `request_timeout_seconds`, a request still running then is answered with
  `DeadlineExceeded` (504 / DEADLINE_EXCEEDED). The work already handed to a graph or model thread is not
  interrupted (the data plane has no cancellation); its slot is freed when the answer goes out.
* Inputs per request: `check_inputs` refuses more documents than `max_inputs_per_request`.
* Tokens per request: the request's `ovserve.graph.request_scope` carries `max_tokens_per_request`
  to the tokenizer, which refuses a larger request before the model runs.
* Metrics: `on_refused(servable)` is told of every refusal; `inflight_counts` is the
  admission depth per servable, safe to read from any thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ovserve.config import RequestLimits
from ovserve.errors import DeadlineExceeded, InvalidArgument, ResourceExhausted
from ovserve.graph import request_scope

T = TypeVar("T")

RETRY_AFTER_SECONDS = 1
# numpy refuses more dimensions, and shapes whose non-zero dimensions multiply past this
# cannot describe data that fits in a message anyway (even when another dimension is 0).
MAX_DIMENSIONS = 32
MAX_SHAPE_ELEMENTS = 2**40


def implausible_shape(shape: tuple[int, ...]) -> bool:
    """True when `shape` has too many dimensions or too many elements to ever be served."""
    if len(shape) > MAX_DIMENSIONS:
        return True
    product = 1
    for dim in shape:
        product *= dim or 1
        if product > MAX_SHAPE_ELEMENTS:
            return True
    return False


class RequestGuard:
    """Admission, timeout and batch-size limits of the front ends."""

    def __init__(
        self, limits: RequestLimits | None = None, on_refused: Callable[[str], None] | None = None
    ) -> None:
        self.limits = limits if limits is not None else RequestLimits()
        self._inflight: dict[str, int] = {}
        self._on_refused = on_refused

    def inflight(self, servable: str) -> int:
        """Requests of `servable` being served now."""
        return self._inflight.get(servable, 0)

    def inflight_counts(self) -> dict[str, int]:
        """Requests being served now, per busy servable. Any thread: copying a dict of str to
        int runs no Python code, so the loop cannot change it half-way (the GIL)."""
        return self._inflight.copy()

    def check_inputs(self, count: int) -> None:
        """Raises `InvalidArgument` when one request carries more than the allowed inputs."""
        limit = self.limits.max_inputs_per_request
        if limit and count > limit:
            raise InvalidArgument(
                f"request has {count} inputs, more than the limit of {limit} per request "
                "(--max_inputs_per_request); split it into smaller requests"
            )

    async def run(self, servable: str, work: Callable[[], Awaitable[T]]) -> T:
        """Admit one request for `servable`, then await `work()` within the timeout.

        `work` is a factory so that a refused request creates no coroutine.

        Raises:
            ResourceExhausted: `servable` already has its limit of requests in flight.
            DeadlineExceeded: the request timed out.
        """
        scope = request_scope.current()
        if scope is not None:
            scope.servable = servable  # on a refusal too: the access log names what was overloaded
        limit = self.limits.inflight_limit(servable)
        count = self._inflight.get(servable, 0)
        if limit and count >= limit:
            if self._on_refused is not None:
                self._on_refused(servable)
            raise ResourceExhausted(
                f"Servable {servable} is overloaded: {limit} requests already in flight; "
                f"retry after {RETRY_AFTER_SECONDS} s"
            )
        self._inflight[servable] = count + 1
        try:
            if scope is not None:
                scope.max_tokens = self.limits.max_tokens_per_request
                return await self._run_admitted(servable, work)
            # A caller without a front end's scope (tests, tools): the limit still applies.
            scope = request_scope.RequestScope(
                max_tokens=self.limits.max_tokens_per_request, servable=servable
            )
            with request_scope.entered(scope):
                return await self._run_admitted(servable, work)
        finally:
            remaining = self._inflight[servable] - 1
            if remaining:
                self._inflight[servable] = remaining
            else:
                # Unknown names must not accumulate: the map holds busy servables only.
                del self._inflight[servable]

    async def _run_admitted(self, servable: str, work: Callable[[], Awaitable[T]]) -> T:
        timeout = self.limits.request_timeout_seconds
        if not timeout:
            return await work()
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                return await work()
        except TimeoutError:
            if not deadline.expired():
                raise
            raise DeadlineExceeded(
                f"request to {servable} timed out after {timeout:g} s (--request_timeout_seconds)"
            ) from None
