"""The contract a rerank graph offers the protocols, apart from running it.

A rerank graph is one whose request node is `RerankRequestCalculator` (native graphs, and what
OVMS's `RerankCalculator` / `RerankCalculatorOV` expand into). KServe inference on it (both
front ends): BYTES input `query` (one element) and BYTES input `documents` (the documents, any
shape, read in row-major order); output `scores` FP32 `[len(documents)]` in document order (the
ranking is the client's: KServe has no result objects); response parameter `prompt_tokens`;
version `1`. Pure functions over neutral types: `ovserve.dataplane` runs the graphs.
"""

from __future__ import annotations

from ovserve.errors import InvalidArgument
from ovserve.graph.runner import Graph
from ovserve.graph_contract import GRAPH_VERSION
from ovserve.types import (
    InferRequest,
    InferResponse,
    ModelMetadata,
    RerankRequest,
    RerankResult,
    Tensor,
    TensorSpec,
)

QUERY_INPUT = "query"
DOCUMENTS_INPUT = "documents"
SCORES_OUTPUT = "scores"
# The calculator that makes a graph a rerank graph (by name: the data plane does not import
# calculators).
RERANK_REQUEST_NODE = "RerankRequestCalculator"


def is_rerank_graph(graph: Graph) -> bool:
    """True when `graph` answers rerank requests (see the module doc)."""
    return any(node.calculator == RERANK_REQUEST_NODE for node in graph.validated.nodes)


def rerank_metadata(name: str) -> ModelMetadata:
    """KServe metadata of rerank graph `name`."""
    return ModelMetadata(
        name=name,
        versions=(str(GRAPH_VERSION),),
        platform="OpenVINO",
        inputs=(
            TensorSpec(name=QUERY_INPUT, datatype="BYTES", shape=(1,)),
            TensorSpec(name=DOCUMENTS_INPUT, datatype="BYTES", shape=(-1,)),
        ),
        outputs=(TensorSpec(name=SCORES_OUTPUT, datatype="FP32", shape=(-1,)),),
    )


def document_count(request: InferRequest) -> int:
    """The documents a KServe request to a rerank graph carries: what `--max_inputs_per_request`
    counts, as for `/v3/rerank` (the query is not a document)."""
    return sum(t.data.size for t in request.inputs if t.name == DOCUMENTS_INPUT and t.datatype == "BYTES")


def rerank_request_of(request: InferRequest) -> RerankRequest:
    """The rerank request a KServe request to a rerank graph stands for.

    Raises:
        InvalidArgument: not exactly the inputs `query` (one BYTES element) and `documents`
            (BYTES, at least one), an unknown output, bytes that are not UTF-8.
    """
    named = {tensor.name: tensor for tensor in request.inputs}
    expected = {QUERY_INPUT, DOCUMENTS_INPUT}
    if set(named) != expected or len(request.inputs) != 2:
        raise InvalidArgument(
            f"rerank graph {request.model} takes two BYTES inputs, {QUERY_INPUT} and {DOCUMENTS_INPUT}; "
            f"got {', '.join(sorted(named)) or 'none'}"
        )
    for tensor in request.inputs:
        if tensor.datatype != "BYTES":
            raise InvalidArgument(f"input {tensor.name} must be BYTES, got {tensor.datatype}")
    unknown = [name for name in request.outputs if name != SCORES_OUTPUT]
    if unknown:
        raise InvalidArgument(f"Output not found in graph: {unknown[0]}")
    query, documents = _texts(named[QUERY_INPUT]), _texts(named[DOCUMENTS_INPUT])
    if len(query) != 1:
        raise InvalidArgument(f"input {QUERY_INPUT} must hold exactly one string, got {len(query)}")
    if not documents:
        raise InvalidArgument("documents array should not be empty")
    return RerankRequest(query=query[0], documents=documents, model=request.model)


def rerank_response(request: InferRequest, result: RerankResult) -> InferResponse:
    """The KServe answer of a rerank run for `request`: every score in document order."""
    scores = result.scores
    output = Tensor(name=SCORES_OUTPUT, datatype="FP32", shape=tuple(scores.shape), data=scores)
    return InferResponse(
        model=request.model,
        version=str(GRAPH_VERSION),
        id=request.id,
        outputs=(output,),
        parameters={"prompt_tokens": result.prompt_tokens},
    )


def _texts(tensor: Tensor) -> tuple[str, ...]:
    try:
        return tuple(
            item.decode("utf-8") if isinstance(item, bytes) else str(item) for item in tensor.data.ravel()
        )
    except UnicodeDecodeError:
        raise InvalidArgument(f"input {tensor.name} must hold UTF-8 strings") from None
