"""What the gRPC front end adds for embeddings graphs on top of `DataPlane`.

Should move into the data plane (so that REST KServe agrees):

* `metadata`: `DataPlane.model_metadata` describes a graph as OVMS REST does (datatype
  `INVALID`, shape `[]`), which tells a client nothing. gRPC clients get the contract that
  `DataPlane.infer` implements: input `input` BYTES `[-1]`, output `output` FP32 `[-1, D]`.
  D is learnt once per loaded graph by embedding a one-word probe (-1 when that fails).
"""

from __future__ import annotations

import weakref

from ovserve.dataplane import GRAPH_VERSION, PAYLOAD_INPUT, PAYLOAD_OUTPUT, DataPlane
from ovserve.errors import OvserveError
from ovserve.graph.runner import Graph
from ovserve.types import EmbeddingsInput, EmbeddingsRequest, ModelMetadata, TensorSpec

_PROBE = EmbeddingsRequest(input=EmbeddingsInput(texts=("dimension probe",)))


class GraphAdapter:
    """Graph metadata and parameter checks; one per front end."""

    def __init__(self, dataplane: DataPlane) -> None:
        self._dataplane = dataplane
        # Keyed by the loaded graph object, so a reloaded graph is probed again.
        self._sizes: weakref.WeakKeyDictionary[Graph, int] = weakref.WeakKeyDictionary()

    def is_graph(self, name: str) -> bool:
        """True when `name` is a graph of the workspace (loaded or not)."""
        return any(g.name == name for g in self._dataplane.repository.workspace.graphs)

    async def metadata(self, name: str, version: int | None = None) -> ModelMetadata:
        """The tensor contract of graph `name` (`version`: None or 1, as `DataPlane.graph`).

        Raises:
            NotFound / Unavailable: as `DataPlane.graph`.
        """
        graph = self._dataplane.graph(name, version)
        size = self._sizes.get(graph)
        if size is None:
            try:
                result = await self._dataplane.embeddings(name, _PROBE)
                size = int(result.embeddings.shape[1])
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
