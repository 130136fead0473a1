"""One request's payload through the graph that serves it: what the data plane's graph calls share.

`GraphPayloads.answer` leases the graph (a reload may replace it while the request is queued;
the old one stays open until the request is answered), refuses a graph of the wrong kind
(rerank or embeddings), feeds the payload to the graph's payload input stream and applies the
caller's `finish` to the packet on its payload output stream, on the graph's worker thread.
Errors of the run carry OVMS's execution-error prefix; those of `finish` are the caller's own
checks and are raised as they are.

A graph's kind and payload streams are found once per loaded graph (kept weakly, so a
replaced graph's entry goes with it).
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable
from typing import TypeVar

from ovserve.errors import InvalidArgument, OvserveError, Unavailable
from ovserve.graph.runner import Graph
from ovserve.graph_contract import EXECUTION_ERROR_PREFIX, PAYLOAD_INPUT, PAYLOAD_OUTPUT, payload_stream
from ovserve.repository import ServedView
from ovserve.rerank_contract import is_rerank_graph

T = TypeVar("T")


class GraphPayloads:
    """Runs payloads through the graphs of `repository` (see the module docstring)."""

    def __init__(self, repository: ServedView) -> None:
        self.repository = repository
        self._shapes: weakref.WeakKeyDictionary[Graph, _PayloadShape] = weakref.WeakKeyDictionary()

    async def answer(
        self, model: str, payload: object, finish: Callable[[object], T], *, rerank: bool | None = False
    ) -> T:
        """`finish(packet)` of the packet graph `model` answers `payload` with on its payload
        output stream (None when the stream came up empty); `finish` runs on the worker thread.

        `rerank` is the kind of graph the payload is for (True: rerank, False: embeddings,
        None: either); a graph of the other kind is refused before it runs.

        Raises:
            NotFound / Unavailable: no such graph, or not loaded (as `Repository.graph`).
            InvalidArgument: a graph of the other kind.
            OvserveError: the run's error under the OVMS execution-error prefix, or what
                `finish` raised, as it is.
        """
        with self.repository.graph_lease(model) as leased:
            if not isinstance(leased, Graph):  # the repository may hold test doubles
                raise Unavailable("Mediapipe is not loaded yet")
            graph = leased
            shape = self._shape(graph)
            if rerank is not None and shape.rerank != rerank:
                raise InvalidArgument(_wrong_kind(model, rerank_graph=not rerank))

            def then(outputs: dict[str, object]) -> T:
                try:
                    return finish(outputs.get(shape.answer))
                except OvserveError as exc:
                    raise _AfterTheGraph(exc) from exc

            try:
                return await graph.run_then({shape.stream: payload}, then)
            except _AfterTheGraph as after:
                raise after.error from None
            except OvserveError as exc:
                code = exc.code.name
                message = EXECUTION_ERROR_PREFIX.format(code=code) + exc.message
                raise OvserveError(message, code=exc.code) from exc

    def _shape(self, graph: Graph) -> _PayloadShape:
        shape = self._shapes.get(graph)
        if shape is None:  # once per loaded graph: these walk its nodes and streams
            shape = _PayloadShape(
                rerank=is_rerank_graph(graph),
                stream=payload_stream(graph.input_streams, PAYLOAD_INPUT),
                answer=payload_stream(graph.output_streams, PAYLOAD_OUTPUT),
            )
            self._shapes[graph] = shape
        return shape


@dataclasses.dataclass(frozen=True, slots=True)
class _PayloadShape:
    """How a loaded graph takes a payload: its kind (rerank or not) and its payload streams."""

    rerank: bool
    stream: str
    answer: str


def _wrong_kind(model: str, *, rerank_graph: bool) -> str:
    if rerank_graph:
        return f"{model} is a rerank graph: call /v3/rerank (or KServe inference) with a query and documents"
    return f"{model} is an embeddings graph, not a rerank graph: call /v3/embeddings"


class _AfterTheGraph(Exception):
    """Carries an error of a `finish` step out of the graph run, so it is not reported as the
    graph's own (no execution-error prefix)."""

    def __init__(self, error: OvserveError) -> None:
        super().__init__(error.message)
        self.error = error
