"""The contract an embeddings graph offers the protocols, apart from running it.

KServe inference on a graph (both front ends): one BYTES input `input` whose elements are the
UTF-8 documents; output `output` FP32 `[N, D]`; request parameter `dimensions` as on the
OpenAI route; response parameter `prompt_tokens`; version `1`. OVMS feeds the HTTP payload
into the stream literally named `input` and answers with `output`; its errors of a graph run
carry `EXECUTION_ERROR_PREFIX`. Pure functions over neutral types: `ovserve.dataplane` runs the
graphs.
"""

from __future__ import annotations

import numpy as np

from ovserve.errors import InvalidArgument
from ovserve.types import EmbeddingsResult, InferRequest, InferResponse, ModelMetadata, Tensor, TensorSpec

# OVMS wraps every calculator failure of a graph run in this text.
EXECUTION_ERROR_PREFIX = "Mediapipe execution failed. MP status - {code}: CalculatorGraph::Run() failed: \n"
# A vector whose norm is this close to 1 counts as normalized by the graph (see `truncate_dimensions`).
UNIT_NORM_TOLERANCE = 1e-4
# OVMS feeds the HTTP payload into the stream literally named `input` and answers with `output`.
PAYLOAD_INPUT = "input"
PAYLOAD_OUTPUT = "output"
# A graph has one version, `1`, as OVMS reports it.
GRAPH_VERSION = 1
# Options only the graph definition sets; a KServe request parameter cannot override them.
GRAPH_ONLY_PARAMETERS = {"normalize": "normalize_embeddings", "truncate": "truncate"}


def graph_metadata(name: str, width: int) -> ModelMetadata:
    """KServe metadata of graph `name` whose vectors have `width` values (-1: unknown)."""
    return ModelMetadata(
        name=name,
        versions=(str(GRAPH_VERSION),),
        platform="OpenVINO",
        inputs=(TensorSpec(name=PAYLOAD_INPUT, datatype="BYTES", shape=(-1,)),),
        outputs=(TensorSpec(name=PAYLOAD_OUTPUT, datatype="FP32", shape=(-1, width)),),
    )


def graph_request_texts(request: InferRequest) -> tuple[tuple[str, ...], int | None]:
    """The documents and the `dimensions` parameter of a KServe request to a graph.

    Raises:
        InvalidArgument: not one BYTES input `input`, an unknown output, a parameter only the
            graph sets, a non-integer `dimensions`, bytes that are not UTF-8, no documents.
    """
    if len(request.inputs) != 1:
        raise InvalidArgument(f"Invalid number of inputs - Expected: 1; Actual: {len(request.inputs)}")
    (tensor,) = request.inputs
    if tensor.name != PAYLOAD_INPUT or tensor.datatype != "BYTES":
        raise InvalidArgument(f"graph {request.model} takes one BYTES input named {PAYLOAD_INPUT}")
    unknown = [name for name in request.outputs if name != PAYLOAD_OUTPUT]
    if unknown:
        raise InvalidArgument(f"Output not found in graph: {unknown[0]}")
    for name, option in GRAPH_ONLY_PARAMETERS.items():
        if name in request.parameters:
            raise InvalidArgument(
                f"request parameter {name} is not supported: it is set by the graph "
                f"(option {option} of its embeddings calculator)"
            )
    dimensions = request.parameters.get("dimensions")
    if dimensions is not None and (not isinstance(dimensions, int) or isinstance(dimensions, bool)):
        raise InvalidArgument("dimensions should be an integer")
    try:
        texts = tuple(
            item.decode("utf-8") if isinstance(item, bytes) else str(item) for item in tensor.data.ravel()
        )
    except UnicodeDecodeError:
        raise InvalidArgument(f"input {PAYLOAD_INPUT} must hold UTF-8 strings") from None
    if not texts:
        raise InvalidArgument("input array should not be empty")
    return texts, dimensions


def graph_response(request: InferRequest, result: EmbeddingsResult) -> InferResponse:
    """The KServe answer of a graph run for `request`."""
    vectors = result.embeddings
    output = Tensor(name=PAYLOAD_OUTPUT, datatype="FP32", shape=tuple(vectors.shape), data=vectors)
    return InferResponse(
        model=request.model,
        version=str(GRAPH_VERSION),
        id=request.id,
        outputs=(output,),
        parameters={"prompt_tokens": result.prompt_tokens},
    )


def truncate_dimensions(result: EmbeddingsResult, dimensions: int) -> EmbeddingsResult:
    """Keep the first `dimensions` values of every vector (Matryoshka).

    The graph's normalization setting is not visible from here (it is an option of a node
    inside possibly-nested subgraphs), so it is inferred from the output: when every non-zero
    vector has unit norm within `UNIT_NORM_TOLERANCE`, the graph normalizes and the truncated
    vectors are re-normalized; otherwise they are returned as cut. An unnormalized model whose
    vectors happen to be unit-norm is indistinguishable, and re-normalizing them is harmless.

    Raises:
        InvalidArgument: `dimensions` is above the native size D.
    """
    vectors = result.embeddings
    native = vectors.shape[1] if vectors.ndim == 2 else 0
    if not 1 <= dimensions <= native:
        raise InvalidArgument(f"dimensions should be between 1 and {native}")
    if dimensions == native:
        return result
    norms = np.linalg.norm(vectors, axis=1)
    normalized = bool(np.all((np.abs(norms - 1.0) <= UNIT_NORM_TOLERANCE) | (norms == 0.0)))
    cut = np.ascontiguousarray(vectors[:, :dimensions], dtype=np.float32)
    if normalized:
        lengths = np.linalg.norm(cut, axis=1, keepdims=True)
        cut = np.divide(cut, lengths, out=np.zeros_like(cut), where=lengths > 0).astype(np.float32)
    return EmbeddingsResult(embeddings=cut, prompt_tokens=result.prompt_tokens)


def payload_stream(streams: tuple[str, ...], preferred: str) -> str:
    """The stream named `preferred`, else the graph's only stream (for hand-written graphs)."""
    names = [s.rsplit(":", 1)[-1] for s in streams]
    if preferred in names or len(names) != 1:
        return preferred
    return names[0]
