"""The KServe/Triton model-configuration extension: what `GET /v2/models/{name}/config`
answers, in Triton's `ModelConfig` JSON form, for graphs and plain models.

Triton's tools read it before they send anything: perf_analyzer stops with `failed to get
model config` without it, and uses `max_batch_size` (0: the shapes below are complete, no
implicit batch dimension), each input's and output's `data_type` and `dims` (-1: any size),
and `platform`/`backend` (an `ensemble` would change what it measures). Fields follow Triton's
`model_config.proto`, names in snake_case as Triton's HTTP endpoint writes them.

A graph's contract is the one `DataPlane.infer` implements: input `input` `TYPE_STRING`
`[-1]` (the documents), output `output` `TYPE_FP32` `[-1, D]`; D is learnt once per loaded
graph by embedding a one-word probe (-1 when that fails), as gRPC's graph metadata does. A
plain model's comes from its KServe metadata. Neutral types only: both front ends may use it.
"""

from __future__ import annotations

import weakref

from ovserve.dataplane import GRAPH_VERSION, PAYLOAD_INPUT, PAYLOAD_OUTPUT, DataPlane
from ovserve.errors import OvserveError
from ovserve.graph.runner import Graph
from ovserve.types import EmbeddingsInput, EmbeddingsRequest, ModelMetadata, TensorSpec

# KServe datatype -> Triton `DataType` (model_config.proto); BYTES is Triton's TYPE_STRING.
TRITON_TYPES = {
    "BOOL": "TYPE_BOOL",
    "UINT8": "TYPE_UINT8",
    "UINT16": "TYPE_UINT16",
    "UINT32": "TYPE_UINT32",
    "UINT64": "TYPE_UINT64",
    "INT8": "TYPE_INT8",
    "INT16": "TYPE_INT16",
    "INT32": "TYPE_INT32",
    "INT64": "TYPE_INT64",
    "FP16": "TYPE_FP16",
    "FP32": "TYPE_FP32",
    "FP64": "TYPE_FP64",
    "BF16": "TYPE_BF16",
    "BYTES": "TYPE_STRING",
}
_PROBE = EmbeddingsRequest(input=EmbeddingsInput(texts=("dimension probe",)))


class ModelConfigs:
    """Builds model configurations over one data plane; called on the event loop."""

    def __init__(self, dataplane: DataPlane) -> None:
        self._dataplane = dataplane
        # Keyed by the loaded graph object, so a reloaded graph is probed again.
        self._sizes: weakref.WeakKeyDictionary[Graph, int] = weakref.WeakKeyDictionary()

    async def metadata(self, name: str, version: int | None = None) -> ModelMetadata:
        """The tensor contract of a graph (see the module) or of a plain model version.

        Raises:
            NotFound / Unavailable: as `DataPlane.model_metadata`.
        """
        dataplane = self._dataplane
        if not dataplane.repository.is_graph(name):
            return dataplane.model_metadata(name, version)
        graph = dataplane.graph(name, version)
        size = self._sizes.get(graph)
        if size is None:
            try:
                size = int((await dataplane.embeddings(name, _PROBE)).embeddings.shape[1])
            except OvserveError:
                size = -1
            self._sizes[graph] = size
        return ModelMetadata(
            name=name,
            versions=(str(GRAPH_VERSION),),
            platform="OpenVINO",
            inputs=(TensorSpec(name=PAYLOAD_INPUT, datatype="BYTES", shape=(-1,)),),
            outputs=(TensorSpec(name=PAYLOAD_OUTPUT, datatype="FP32", shape=(-1, size)),),
        )

    async def config(self, name: str, version: int | None = None) -> dict[str, object]:
        """Triton's `ModelConfig` of `name` as JSON-ready values. Raises as `metadata`."""
        meta = await self.metadata(name, version)
        return {
            "name": meta.name,
            "platform": "openvino",
            "backend": "openvino",
            "version_policy": {"latest": {"num_versions": 1}},
            "max_batch_size": 0,
            "input": [_tensor(t) for t in meta.inputs],
            "output": [_tensor(t) for t in meta.outputs],
            "model_transaction_policy": {"decoupled": False},
        }


def _tensor(spec: TensorSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "data_type": TRITON_TYPES.get(spec.datatype, "TYPE_INVALID"),
        # A scalar has no dims; Triton writes it as [1] with reshape, perf_analyzer takes [1].
        "dims": list(spec.shape) or [1],
    }
