"""The data plane: what every front end calls, in neutral types.

REST and gRPC codecs parse their wire formats into `ovserve.types`, call a `DataPlane` method,
and encode the result; they never touch the repository, the lifecycle or a graph directly, so
the two protocols answer the same by construction. The data plane owns:

* the server: liveness, readiness, server metadata, the status document, config reload;
* servables: listing and version status (`ovserve.listing.ServableListing`, its base),
  readiness, KServe metadata (graphs: the tensor contract of `infer`);
* inference: `embeddings`, `tokenize`, `decode`, `rerank`, `infer`, each admitted by the `RequestGuard`
  (`ovserve.admission`: in-flight bound, timeout, inputs per request) before it runs; a graph
  call then goes through `ovserve.graph_payloads.GraphPayloads` (lease, kind, payload streams,
  the OVMS execution-error prefix).

It reads the repository through `ServedView` (a Protocol) and reloads through `Reloadable`.
This module imports no web or RPC framework. Methods are called on the event loop: the coroutines hand
CPU work to the graph executor or a worker thread, the plain methods are cheap.

Errors are `OvserveError`s with OVMS message texts; the front ends map them once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, TypeVar

from ovserve import __version__
from ovserve.admission import RequestGuard
from ovserve.config import RequestLimits
from ovserve.errors import InvalidArgument, NotFound, OvserveError, Unavailable, Unimplemented
from ovserve.graph.runner import Graph
from ovserve.graph_contract import (
    GRAPH_VERSION,
    graph_metadata,
    graph_request_texts,
    graph_response,
    truncate_dimensions,
)
from ovserve.graph_payloads import GraphPayloads
from ovserve.lifecycle import ReloadError as ReloadError  # raised by `reload`, for front ends
from ovserve.lifecycle import ReloadOutcome
from ovserve.listing import ServableListing
from ovserve.models.serving import model_metadata_of, run_model
from ovserve.names import ModelNames
from ovserve.repository import ServedView
from ovserve.rerank_contract import (
    document_count,
    is_rerank_graph,
    rerank_metadata,
    rerank_request_of,
    rerank_response,
)
from ovserve.types import (
    DecodeRequest,
    DecodeResult,
    EmbeddingsInput,
    EmbeddingsRequest,
    EmbeddingsResult,
    InferRequest,
    InferResponse,
    ModelMetadata,
    NonJsonPayload,
    RerankRequest,
    RerankResult,
    ServerMetadata,
    TokenizeBody,
    TokenizeRequest,
    TokenizeResult,
)

# The OVMS name in server metadata: clients that check it keep working.
SERVER_NAME = "OpenVINO Model Server"
# The request a graph's output width is learnt from (see `model_metadata`).
_PROBE = EmbeddingsRequest(input=EmbeddingsInput(texts=("dimension probe",)))

EmbeddingsPayload = EmbeddingsRequest | Mapping[str, object] | NonJsonPayload
RerankPayload = RerankRequest | Mapping[str, object]


class Reloadable(Protocol):
    """What reloads the workspace (`ovserve.lifecycle.Reloader`)."""

    def reload(self, *, pause: float = 0.0, retry_failed_config: bool = True) -> ReloadOutcome: ...


@dataclasses.dataclass(frozen=True)
class DeferredInfer:
    """An inference request whose body is decoded only once it is admitted.

    `decode` runs inside admission, so under overload a refusal costs no decoding, and the
    request timeout covers it.
    """

    model: str
    decode: Callable[[], Awaitable[InferRequest]]


T = TypeVar("T")


class DataPlane(ServableListing):
    """Serves the repository's graphs and models to the front ends (listing and status:
    `ServableListing`)."""

    def __init__(
        self,
        repository: ServedView,
        *,
        reloader: Reloadable | None = None,
        guard: RequestGuard | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(repository)
        self.guard = guard if guard is not None else RequestGuard()
        self._reloader = reloader
        self.started = time.time()
        # Client names -> served names, for the OpenAI and TEI routes (`ovserve.names`).
        self.names = ModelNames(repository, aliases)
        # Output width of each loaded graph, learnt once (keyed by the object: a reload re-probes).
        self._widths: weakref.WeakKeyDictionary[Graph, int] = weakref.WeakKeyDictionary()
        self._payloads = GraphPayloads(repository)

    # -- the server --------------------------------------------------------------------------

    def live(self) -> bool:
        """True while the process serves requests at all."""
        return True

    def ready(self) -> bool:
        """True once every entry of the start-up workspace has loaded or failed (never reset)."""
        return self.repository.ready

    def server_metadata(self) -> ServerMetadata:
        return ServerMetadata(name=SERVER_NAME, version=__version__)

    @property
    def limits(self) -> RequestLimits:
        """The per-request limits admission applies (`--max_inputs_per_request`, ...)."""
        return self.guard.limits

    async def reload(self, *, pause: float = 0.0) -> ReloadOutcome:
        """Apply what changed on disk (config, graph files, version directories) off the loop.

        Raises:
            ReloadError: the config cannot be applied (nothing of it changed).
            Unimplemented: this data plane was made without a reloader.
        """
        if self._reloader is None:
            raise Unimplemented("config reload is not available here")
        return await asyncio.to_thread(self._reloader.reload, pause=pause)

    def resolve_name(self, name: str) -> str:
        """The served name a client's `name` stands for (alias, unique last segment); cheap."""
        return self.names.resolve(name)

    # -- graphs ------------------------------------------------------------------------------

    def graph(self, name: str, version: int | None = None) -> Graph:
        """The loaded graph `name`; `version`, when given, must be `GRAPH_VERSION`.

        Raises:
            NotFound: `Mediapipe graph definition with requested name is not found`, or
                `Model with requested version is not found` (the answer for a model).
            Unavailable: `Mediapipe is not loaded yet` (loading or failed; OVMS answers 500).
        """
        if version not in (None, GRAPH_VERSION) and self.is_graph(name):
            raise NotFound("Model with requested version is not found")
        graph = self.repository.graph(name)
        if not isinstance(graph, Graph):  # the repository may hold test doubles
            raise Unavailable("Mediapipe is not loaded yet")
        return graph

    async def embeddings(
        self,
        model: str,
        payload: EmbeddingsPayload,
        *,
        inputs: int | None = None,
        dimensions: int | None = None,
        render: Callable[[EmbeddingsResult], bytes] | None = None,
    ) -> EmbeddingsResult:
        """Admit one request (`inputs`: its document count, checked against the limit per
        request when given), then run it as `_embeddings` does.

        Raises:
            As `_embeddings`; InvalidArgument for too many inputs, ResourceExhausted and
            DeadlineExceeded from admission (`RequestGuard`).
        """
        return await self._admitted(
            model, inputs, lambda: self._embeddings(model, payload, dimensions=dimensions, render=render)
        )

    async def tokenize(
        self, model: str, body: Mapping[str, object] | TokenizeRequest, *, inputs: int | None = None
    ) -> TokenizeResult:
        """Admit one request (as `embeddings`), then run it as `_tokenize` does."""
        return await self._admitted(model, inputs, lambda: self._tokenize(model, body))

    async def decode(self, model: str, request: DecodeRequest, *, inputs: int | None = None) -> DecodeResult:
        """Admit one request (as `embeddings`), then run it as `_decode` does."""
        return await self._admitted(model, inputs, lambda: self._decode(model, request))

    async def rerank(self, model: str, payload: RerankPayload, *, inputs: int | None = None) -> RerankResult:
        """Admit one request (as `embeddings`; `inputs`: its document count), then run it as
        `_rerank` does."""
        return await self._admitted(model, inputs, lambda: self._rerank(model, payload))

    async def _admitted(self, model: str, inputs: int | None, work: Callable[[], Awaitable[T]]) -> T:
        if inputs is not None:
            self.guard.check_inputs(inputs)
        return await self.guard.run(model, work)

    async def _embeddings(
        self,
        model: str,
        payload: EmbeddingsPayload,
        *,
        dimensions: int | None = None,
        render: Callable[[EmbeddingsResult], bytes] | None = None,
    ) -> EmbeddingsResult:
        """Run the embeddings graph `model` on one request and return its vectors.

        `payload` is what the graph's request node accepts: an `EmbeddingsRequest`, a decoded
        OpenAI JSON body (validated inside the graph, so its errors carry the OVMS node wrapper),
        or a `NonJsonPayload` (rejected by the graph with the OVMS text).
        `dimensions` keeps the first N values of every vector (Matryoshka); see
        `truncate_dimensions` for when they are re-normalized.
        `render`, when given, encodes the result (e.g. a JSON body) on the graph's worker
        thread, right after the run, into the result's `rendered`: a front end's encoding then
        neither runs on the event loop nor costs a second thread hop.

        Raises:
            NotFound / Unavailable: as `graph`.
            InvalidArgument: a request problem, as `Mediapipe execution failed. …: <message>`,
                or `dimensions` outside 1..D.
        """
        if dimensions is not None and dimensions < 1:
            raise InvalidArgument("dimensions should be greater than 0")

        def finish(packet: object) -> EmbeddingsResult:
            if not isinstance(packet, EmbeddingsResult):
                raise OvserveError(f"graph {model!r} does not produce embeddings")
            result = packet if dimensions is None else truncate_dimensions(packet, dimensions)
            if render is not None:
                result = dataclasses.replace(result, rendered=render(result))
            return result

        return await self._answer(model, payload, finish)

    async def _rerank(self, model: str, payload: RerankPayload) -> RerankResult:
        """Run the rerank graph `model` on one request: a `RerankRequest`, or a decoded Cohere
        JSON body (validated inside the graph, with OVMS's texts and error wrapper).

        Raises:
            NotFound / Unavailable: as `graph`.
            InvalidArgument: a request problem, or `model` is an embeddings graph.
        """

        def finish(packet: object) -> RerankResult:
            if not isinstance(packet, RerankResult):
                raise OvserveError(f"graph {model!r} does not produce rerank results")
            return packet

        return await self._answer(model, payload, finish, rerank=True)

    async def _tokenize(self, model: str, body: Mapping[str, object] | TokenizeRequest) -> TokenizeResult:
        """Run the tokenize branch of graph `model` on a decoded `/v3/tokenize` body, or on a
        request a front end built (TEI's `/tokenize`).

        Raises:
            NotFound / Unavailable: as `graph`.
            InvalidArgument: a body problem, in the OVMS execution-error wrapper.
            Unimplemented: the graph has no tokenize branch (or, for `details`, no detokenizer).
        """
        payload = body if isinstance(body, TokenizeRequest) else TokenizeBody(body)
        result = await self._answer(model, payload, _packet_as_it_is, rerank=None)
        if not isinstance(result, TokenizeResult):
            raise Unimplemented(f"graph {model!r} does not serve tokenize")
        return result

    async def _decode(self, model: str, request: DecodeRequest) -> DecodeResult:
        """Turn token ids back into text with graph `model`'s detokenizer (TEI's `/decode`).

        Raises:
            NotFound / Unavailable: as `graph`.
            InvalidArgument: an id outside the vocabulary, in the OVMS execution-error wrapper.
            Unimplemented: the graph has no tokenize branch or no detokenizer.
        """
        result = await self._answer(model, request, _packet_as_it_is, rerank=False)
        if not isinstance(result, DecodeResult):
            raise Unimplemented(f"graph {model!r} does not serve decode")
        return result

    async def _answer(
        self, model: str, payload: object, finish: Callable[[object], T], *, rerank: bool | None = False
    ) -> T:
        """`finish(packet)` of graph `model`'s answer to `payload` (`GraphPayloads.answer`)."""
        return await self._payloads.answer(model, payload, finish, rerank=rerank)

    # -- metadata and inference ----------------------------------------------------------------

    async def model_metadata(self, name: str, version: int | None = None) -> ModelMetadata:
        """KServe metadata of a model version, or of a graph (version 1 or none).

        A graph is described by the contract `infer` implements on it: input `input` BYTES
        `[-1]` (the documents), output `output` FP32 `[-1, D]`. D is learnt once per loaded
        graph by embedding a one-word probe (-1 when that fails). OVMS's REST answer for a graph
        (datatype `INVALID`, shape `[]`) tells a client nothing, so neither protocol gives it.

        Raises:
            NotFound: `Model with requested name is not found` / `… version is not found`.
            Unavailable: `Model with requested version is not loaded yet`.
        """
        if not self.is_graph(name):
            return model_metadata_of(self._model(name, version), self._model_versions(name))
        graph = self.graph(name, version)
        if is_rerank_graph(graph):
            return rerank_metadata(name)
        width = self._widths.get(graph)
        if width is None:
            try:
                width = int((await self._embeddings(name, _PROBE)).embeddings.shape[1])
            except OvserveError:
                width = -1
            self._widths[graph] = width
        return graph_metadata(name, width)

    def model_ready(self, name: str, version: int | None = None) -> bool:
        """True when the graph or model version can serve.

        Raises:
            NotFound: unknown name or version (a graph has only version 1).
        """
        try:
            if self.is_graph(name):
                self.graph(name, version)
            else:
                self._model(name, version)
        except Unavailable:
            return False
        return True

    async def infer(self, request: InferRequest | DeferredInfer) -> InferResponse:
        """Admit one KServe request (a `DeferredInfer` is decoded once admitted), check its
        document count (BYTES elements; a rerank graph's `documents` only) against the limit
        per request, then run it as `_infer` does. Raises as `_infer`, and as `embeddings` for
        admission.
        """

        async def work() -> InferResponse:
            decoded = request if isinstance(request, InferRequest) else await request.decode()
            if self.is_graph(decoded.model) and self.is_rerank_graph(decoded.model):
                self.guard.check_inputs(document_count(decoded))
            else:
                self.guard.check_inputs(sum(t.data.size for t in decoded.inputs if t.datatype == "BYTES"))
            return await self._infer(decoded)

        return await self.guard.run(request.model, work)

    async def _infer(self, request: InferRequest) -> InferResponse:
        """Run a plain model on tensors (worker thread), or an embeddings graph on texts.

        Graph contract (shared by both KServe front ends): one BYTES input `input` whose
        elements are the UTF-8 documents; output `output` FP32 `[N, D]`; request parameter
        `dimensions` as in `embeddings`; response parameter `prompt_tokens`; version `1`
        (a requested version is ignored, as OVMS ignores it on graph inference).

        Raises:
            NotFound / Unavailable: as `model_metadata`.
            InvalidArgument: missing, unexpected or mistyped inputs; unknown requested outputs.
        """
        if self.is_graph(request.model):
            return await self._infer_graph(request)
        # Leased so that a version replaced by a reload is marked END only after this request.
        with self.repository.models.lease(request.model, request.version) as loaded:
            outputs = await asyncio.to_thread(run_model, loaded, request.inputs, request.outputs)
        return InferResponse(model=request.model, version=str(loaded.version), id=request.id, outputs=outputs)

    async def _infer_graph(self, request: InferRequest) -> InferResponse:
        graph = self.graph(request.model)  # NOT_FOUND / UNAVAILABLE before input errors, as OVMS
        if is_rerank_graph(graph):
            ranked = await self._rerank(request.model, rerank_request_of(request))
            return rerank_response(request, ranked)
        texts, dimensions = graph_request_texts(request)
        payload = EmbeddingsRequest(input=EmbeddingsInput(texts=texts), model=request.model)
        result = await self._embeddings(request.model, payload, dimensions=dimensions)
        return graph_response(request, result)

    def is_rerank_graph(self, name: str) -> bool:
        """True when `name` is a loaded rerank graph (`ovserve.rerank_contract`)."""
        try:
            return is_rerank_graph(self.graph(name))
        except OvserveError:
            return False


def _packet_as_it_is(packet: object) -> object:
    return packet
