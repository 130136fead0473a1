"""`MeteredDataPlane`: the data plane, with each graph run and model inference recorded.

The server uses it instead of `DataPlane` when metrics are on, so that the data plane itself
stays free of metrics code and costs nothing extra when they are off. Both front ends reach
graphs and models for inference only through these methods, so this is the one place where
outcomes, times and token counts are seen; the protocol's labels come from `context.CALL`.

Recorded here:

The recording wraps the data plane's unadmitted `_embeddings`, `_tokenize`, `_rerank` and `_infer`, so a
request the guard refuses is counted by the guard's `on_refused`, never as a run.

* `embeddings`, `tokenize` and `rerank` (every graph run: OpenAI, Cohere and TEI routes, and
  KServe infer on a graph through `infer`): `ovms_requests_accepted`, then `ovms_responses` or
  `ovms_graph_error`, `ovms_graph_processing_time_us`, `ovms_current_graphs`; embeddings and
  rerank add their usage to `ovserve_prompt_tokens_total`.
* `infer` on a graph, refused by the data plane's input checks before the graph ran:
  `ovms_requests_rejected`.
* `infer` on a plain model: `ovms_requests_success`/`_fail`, `ovms_request_time_us` (from the
  front end's start), `ovms_inference_time_us` (the data plane's run, worker-thread hand-off
  included), `ovms_current_requests`, `ovms_infer_req_active`.

Unknown names and versions get no series: their errors pass through unrecorded.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import TypeVar

from ovserve.admission import RequestGuard
from ovserve.dataplane import DataPlane, EmbeddingsPayload, Reloadable, RerankPayload
from ovserve.errors import InvalidArgument, OvserveError
from ovserve.graph import request_scope
from ovserve.metrics.context import current_call
from ovserve.metrics.recorder import Metrics, ModelTimes
from ovserve.repository import ServedView
from ovserve.types import (
    DecodeRequest,
    DecodeResult,
    EmbeddingsResult,
    InferRequest,
    InferResponse,
    RerankResult,
    TokenizeRequest,
    TokenizeResult,
)

T = TypeVar("T")

# Set when a graph run starts inside `infer`, so that `infer` can tell a refused request.
_GRAPH_RAN: ContextVar[bool] = ContextVar("ovserve_metrics_graph_ran", default=False)


class MeteredDataPlane(DataPlane):
    """`DataPlane` plus recording into `metrics`; same contract, same errors."""

    def __init__(
        self,
        repository: ServedView,
        metrics: Metrics,
        *,
        reloader: Reloadable | None = None,
        guard: RequestGuard | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(repository, reloader=reloader, guard=guard, aliases=aliases)
        self.metrics = metrics

    async def _embeddings(
        self,
        model: str,
        payload: EmbeddingsPayload,
        *,
        dimensions: int | None = None,
        render: Callable[[EmbeddingsResult], bytes] | None = None,
    ) -> EmbeddingsResult:
        parent = super()._embeddings
        return await self._graph_run(
            model, lambda: parent(model, payload, dimensions=dimensions, render=render)
        )

    async def _tokenize(self, model: str, body: Mapping[str, object] | TokenizeRequest) -> TokenizeResult:
        parent = super()._tokenize
        return await self._graph_run(model, lambda: parent(model, body))

    async def _decode(self, model: str, request: DecodeRequest) -> DecodeResult:
        parent = super()._decode
        return await self._graph_run(model, lambda: parent(model, request))

    async def _rerank(self, model: str, payload: RerankPayload) -> RerankResult:
        parent = super()._rerank
        return await self._graph_run(model, lambda: parent(model, payload))

    async def _graph_run(self, model: str, run: Callable[[], Awaitable[T]]) -> T:
        """Await `run()`, one run of graph `model`, recorded; an embeddings or rerank answer
        adds its tokens."""
        self.graph(model)  # NotFound / Unavailable: not a run of a known graph, nothing to record
        _GRAPH_RAN.set(True)
        call = current_call()
        self.metrics.graph_started(model, call)
        started = time.perf_counter()
        ok, tokens = False, 0
        try:
            result = await run()
            ok = True
            if isinstance(result, EmbeddingsResult | RerankResult):
                tokens = result.prompt_tokens
            return result
        finally:
            seconds = time.perf_counter() - started
            self.metrics.graph_finished(model, call, seconds, ok=ok, prompt_tokens=tokens)

    async def _infer(self, request: InferRequest) -> InferResponse:
        if self.repository.is_graph(request.model):
            return await self._infer_graph_metered(request)
        try:
            version = str(self.repository.models.resolve(request.model, request.version).version)
        except OvserveError:
            return await super()._infer(request)  # raises the same error, unrecorded
        call = current_call()
        self.metrics.model_started(request.model, version)
        started = time.perf_counter()
        # The inference reports its own wait and run time into the request's scope (a fresh
        # one when the front end opened none), so those exclude decoding and encoding.
        outer = request_scope.current()
        scope = request_scope.RequestScope() if outer is None else outer
        queued, inferred = scope.queue_s, scope.inference_s
        ok = False
        try:
            with request_scope.entered(scope):
                response = await super()._infer(request)
            ok = True
            return response
        finally:
            ended = time.perf_counter()
            front = call.started if call is not None and call.started is not None else started
            self.metrics.model_finished(
                request.model,
                version,
                call,
                ModelTimes(
                    infer_s=scope.inference_s - inferred,
                    wait_s=scope.queue_s - queued,
                    request_s=ended - front,
                ),
                ok,
            )

    async def _infer_graph_metered(self, request: InferRequest) -> InferResponse:
        token = _GRAPH_RAN.set(False)
        try:
            return await super()._infer(request)
        except InvalidArgument:
            if not _GRAPH_RAN.get():
                self.metrics.graph_rejected(request.model, current_call())
            raise
        finally:
            _GRAPH_RAN.reset(token)
