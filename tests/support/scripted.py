"""A data plane double that fails with the `ErrorCode` its request names, for the error walks.

The real data plane cannot be made to fail with every code (say, UNAUTHENTICATED from an
inference), so the walks over a real REST or gRPC server use this one: it replaces only the
unadmitted inference methods (`_infer`, `_embeddings`) and the graph look-up; admission, the
servicer or handlers, the error mapping and the bodies are the real ones.

Model names: an `ErrorCode` name raises that code with message `scripted <NAME>`; `crash`
raises a plain bug; `big` answers a tensor of `big_elements` float32s; `ok` answers empty.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import cast

import numpy as np

from ovserve.dataplane import DataPlane, EmbeddingsPayload
from ovserve.errors import ErrorCode, OvserveError
from ovserve.graph.runner import Graph
from ovserve.repository import ServedView
from ovserve.types import EmbeddingsResult, InferRequest, InferResponse, Tensor

CRASH_DETAIL = "secret detail: /etc/ovserve"


def _raise_for(model: str) -> None:
    if model == "crash":
        raise RuntimeError(CRASH_DETAIL)
    if model in ErrorCode.__members__:
        code = ErrorCode[model]
        raise OvserveError(f"scripted {code.name}", code=code)


class ScriptedDataPlane(DataPlane):
    """See the module docstring."""

    def __init__(self, big_elements: int = 0) -> None:
        repository = SimpleNamespace(
            ready=True,
            workspace=SimpleNamespace(graphs=(), models=()),
            statuses=dict,
            is_graph=lambda name: False,
        )
        super().__init__(cast(ServedView, repository))
        self._big_elements = big_elements

    def graph(self, name: str, version: int | None = None) -> Graph:
        # The OpenAI routes look the graph up first; every scripted name "exists".
        return cast(Graph, object())

    async def _infer(self, request: InferRequest) -> InferResponse:
        _raise_for(request.model)
        if request.model == "big":
            data = np.zeros(self._big_elements, dtype=np.float32)
            return InferResponse(
                model="big",
                version="1",
                outputs=(Tensor(name="y", datatype="FP32", shape=(self._big_elements,), data=data),),
            )
        return InferResponse(model=request.model, version="1")

    async def _embeddings(
        self,
        model: str,
        payload: EmbeddingsPayload,
        *,
        dimensions: int | None = None,
        render: Callable[[EmbeddingsResult], bytes] | None = None,
    ) -> EmbeddingsResult:
        _raise_for(model)
        raise OvserveError("the scripted data plane embeds nothing", code=ErrorCode.UNIMPLEMENTED)
