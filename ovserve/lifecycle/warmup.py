"""Warm up a freshly loaded graph with one request before it takes traffic.

Only graphs that take an embeddings or rerank payload on a stream named `input` (or on their
only input stream) can be warmed up generically; others are left cold. A failing warm-up is logged and
the graph is still installed: the models it uses were already warmed up one by one, and a graph
with an unusual request type may reject the generic payload for reasons a client would not hit.
"""

from __future__ import annotations

import logging

from ovserve.errors import OvserveError
from ovserve.graph.runner import Graph
from ovserve.rerank_contract import is_rerank_graph
from ovserve.types import EmbeddingsInput, EmbeddingsRequest, RerankRequest

log = logging.getLogger(__name__)

WARMUP_TEXT = "warm-up"


def warm_up_graph(name: str, graph: object) -> None:
    """Run one request of its kind through `graph` on the calling (worker) thread; never raises."""
    if not isinstance(graph, Graph):  # test doubles
        return
    names = [s.rsplit(":", 1)[-1] for s in graph.input_streams]
    stream = "input" if "input" in names else names[0] if len(names) == 1 else None
    if stream is None:
        return
    request: object = EmbeddingsRequest(input=EmbeddingsInput(texts=(WARMUP_TEXT,)), model=name)
    if is_rerank_graph(graph):
        request = RerankRequest(query=WARMUP_TEXT, documents=(WARMUP_TEXT,), model=name)
    try:
        graph.run_sync({stream: request})
    except OvserveError as exc:
        log.warning("graph %s: warm-up request failed (%s); serving it anyway", name, exc)
    except Exception:
        log.exception("graph %s: warm-up request raised; serving it anyway", name)
