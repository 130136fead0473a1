"""The KServe/Triton model-configuration extension: what `GET /v2/models/{name}/config`
answers, in Triton's `ModelConfig` JSON form, for graphs and plain models.

Triton's tools read it before they send anything: perf_analyzer stops with `failed to get
model config` without it, and uses `max_batch_size` (0: the shapes below are complete, no
implicit batch dimension), each input's and output's `data_type` and `dims` (-1: any size),
and `platform`/`backend` (an `ensemble` would change what it measures). Fields follow Triton's
`model_config.proto`, names in snake_case as Triton's HTTP endpoint writes them.

Inputs and outputs are those of the servable's KServe metadata (`DataPlane.model_metadata`;
for a graph, input `input` `TYPE_STRING` `[-1]`, output `output` `TYPE_FP32` `[-1, D]`).
Neutral types only: both front ends use it.
"""

from __future__ import annotations

from ovserve.dataplane import DataPlane
from ovserve.types import TensorSpec

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


class ModelConfigs:
    """Builds model configurations over one data plane; called on the event loop."""

    def __init__(self, dataplane: DataPlane) -> None:
        self._dataplane = dataplane

    async def config(self, name: str, version: int | None = None) -> dict[str, object]:
        """Triton's `ModelConfig` of `name` as JSON-ready values.

        Raises:
            NotFound / Unavailable: as `DataPlane.model_metadata`.
        """
        meta = await self._dataplane.model_metadata(name, version)
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
