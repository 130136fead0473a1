"""Protocol-neutral request and response types of the data plane.

Both front ends (REST and gRPC) translate their wire formats into these and back; nothing here
knows about HTTP, JSON or protobuf. Tensors follow KServe v2 naming (`datatype` strings such as
`FP32`, `INT64`, `BYTES`) because both KServe codecs speak it, but hold plain numpy arrays.

The embeddings, rerank and tokenize objects are packet formats of the engine (`ovserve.graph.formats`:
the graph streams carry them) and are re-exported here so that front ends import every neutral
type from one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsRequest, EmbeddingsResult
from ovserve.graph.formats.rerank import RerankHit, RerankRequest, RerankResult
from ovserve.graph.formats.text_options import TextOptions
from ovserve.graph.formats.tokenize import (
    DecodeRequest,
    DecodeResult,
    TokenDetail,
    TokenizeBody,
    TokenizeRequest,
    TokenizeResult,
)

__all__ = [
    "DATATYPES",
    "DecodeRequest",
    "DecodeResult",
    "EmbeddingsInput",
    "EmbeddingsRequest",
    "EmbeddingsResult",
    "InferRequest",
    "InferResponse",
    "ModelMetadata",
    "NonJsonPayload",
    "RerankHit",
    "RerankRequest",
    "RerankResult",
    "ServableInfo",
    "ServerMetadata",
    "Tensor",
    "TensorSpec",
    "TextOptions",
    "TokenDetail",
    "TokenizeBody",
    "TokenizeRequest",
    "TokenizeResult",
    "datatype_of",
    "dtype_of",
]

# KServe v2 datatype → numpy dtype. BYTES tensors are numpy object arrays of `bytes`.
DATATYPES: dict[str, np.dtype[np.generic]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}


def dtype_of(datatype: str) -> np.dtype[np.generic] | None:
    """The numpy dtype of a KServe datatype, or None when the datatype is unknown."""
    return DATATYPES.get(datatype)


def datatype_of(dtype: np.dtype[np.generic]) -> str:
    """The KServe datatype of a numpy dtype; strings and objects are `BYTES`."""
    if dtype.kind in "OSU":
        return "BYTES"
    for name, known in DATATYPES.items():
        if known == dtype:
            return name
    return "INVALID"


@dataclass(frozen=True, kw_only=True)
class NonJsonPayload:
    """A request body that was not sent as JSON; graphs that want JSON reject it (as OVMS does)."""

    body: bytes
    content_type: str = ""


@dataclass(frozen=True, kw_only=True)
class ServerMetadata:
    """KServe v2 server metadata."""

    name: str
    version: str


@dataclass(frozen=True, kw_only=True)
class ServableInfo:
    """One servable of the repository as the model-listing APIs see it."""

    name: str
    kind: Literal["graph", "model"]
    available: bool
    versions: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TensorSpec:
    """A declared input or output: `shape` uses -1 for dynamic dimensions."""

    name: str
    datatype: str
    shape: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class ModelMetadata:
    name: str
    versions: tuple[str, ...]
    platform: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


@dataclass(frozen=True, kw_only=True, eq=False)
class Tensor:
    """A named tensor. `data` has exactly `shape` and the dtype of `datatype` (objects for BYTES)."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data: npt.NDArray[np.generic]


@dataclass(frozen=True, kw_only=True, eq=False)
class InferRequest:
    """A KServe-style inference call; `outputs` empty means every output of the servable."""

    model: str
    version: int | None = None
    id: str = ""
    inputs: tuple[Tensor, ...] = ()
    outputs: tuple[str, ...] = ()
    parameters: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, eq=False)
class InferResponse:
    """`parameters` are response-level KServe parameters (graphs report `prompt_tokens`)."""

    model: str
    version: str
    id: str = ""
    outputs: tuple[Tensor, ...] = ()
    parameters: dict[str, object] = field(default_factory=dict)
