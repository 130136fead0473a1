"""The KServe v2 `GRPCInferenceService` servicer: protobuf ↔ data plane.

Every unary method is wrapped by `errors.rpc_errors` when registered (see `service.py`), so
methods simply raise `OvserveError`. ModelInfer goes to `DataPlane.infer`, which serves a
model or an embeddings graph; the workspace refuses a model and a graph of one name, so this
answers as OVMS's model-then-graph lookup does, and unknown names get the model's NOT_FOUND.
Handlers run on the event loop; inference runs off it (models on a worker thread in
`DataPlane.infer`, graphs on the graph executor).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.dataplane import DataPlane
from ovserve.errors import InvalidArgument
from ovserve.frontends.grpc.errors import check_decoded, describe
from ovserve.frontends.grpc.tensors import (
    decode_inputs,
    decode_parameters,
    encode_output,
    encode_parameter,
)
from ovserve.types import InferRequest

log = logging.getLogger(__name__)


def parse_version(version: str) -> int | None:
    """A KServe version string: empty or "0" means the default (highest available) version.

    Raises:
        InvalidArgument: not a non-negative integer (OVMS MODEL_VERSION_INVALID_FORMAT).
    """
    if version in ("", "0"):
        return None
    if not version.isascii() or not version.isdigit():
        raise InvalidArgument("invalid model version format in request")
    return int(version)


class KServeServicer:
    """Implements the seven RPCs over one `DataPlane`."""

    def __init__(self, dataplane: DataPlane) -> None:
        self._dataplane = dataplane

    @property
    def dataplane(self) -> DataPlane:
        return self._dataplane

    async def ServerLive(  # noqa: N802 - RPC names are fixed by the protocol
        self, request: pb.ServerLiveRequest, context: grpc.aio.ServicerContext
    ) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=self._dataplane.live())

    async def ServerReady(  # noqa: N802
        self, request: pb.ServerReadyRequest, context: grpc.aio.ServicerContext
    ) -> pb.ServerReadyResponse:
        """Ready as `/v2/health/ready`: every start-up entry has loaded or failed."""
        return pb.ServerReadyResponse(ready=self._dataplane.ready())

    async def ServerMetadata(  # noqa: N802
        self, request: pb.ServerMetadataRequest, context: grpc.aio.ServicerContext
    ) -> pb.ServerMetadataResponse:
        meta = self._dataplane.server_metadata()
        return pb.ServerMetadataResponse(name=meta.name, version=meta.version)

    async def ModelReady(  # noqa: N802
        self, request: pb.ModelReadyRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelReadyResponse:
        """False while loading or after a failure; NOT_FOUND for unknown names and versions."""
        ready = self._dataplane.model_ready(request.name, parse_version(request.version))
        return pb.ModelReadyResponse(ready=ready)

    async def ModelMetadata(  # noqa: N802
        self, request: pb.ModelMetadataRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelMetadataResponse:
        meta = await self._dataplane.model_metadata(request.name, parse_version(request.version))
        tensor = pb.ModelMetadataResponse.TensorMetadata
        return pb.ModelMetadataResponse(
            name=meta.name,
            versions=list(meta.versions),
            platform=meta.platform,
            inputs=[tensor(name=t.name, datatype=t.datatype, shape=list(t.shape)) for t in meta.inputs],
            outputs=[tensor(name=t.name, datatype=t.datatype, shape=list(t.shape)) for t in meta.outputs],
        )

    async def ModelInfer(  # noqa: N802
        self, request: pb.ModelInferRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModelInferResponse:
        return await self.infer(request)

    async def ModelStreamInfer(  # noqa: N802
        self, requests: AsyncIterator[pb.ModelInferRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ModelStreamInferResponse]:
        """One response per request, in order; a failed request yields `error_message` only."""
        async for request in requests:
            try:
                check_decoded(request)
                response = await self.infer(request)
            except Exception as exc:
                _, message = describe(exc, "ModelStreamInfer")
                yield pb.ModelStreamInferResponse(error_message=message)
            else:
                yield pb.ModelStreamInferResponse(infer_response=response)

    async def infer(self, request: pb.ModelInferRequest) -> pb.ModelInferResponse:
        """Decode, run on the model or graph `request.model_name` (admitted by the data plane), encode."""
        neutral = InferRequest(
            model=request.model_name,
            version=parse_version(request.model_version),
            id=request.id,
            inputs=decode_inputs(request),
            outputs=tuple(output.name for output in request.outputs),
            parameters=decode_parameters(request.parameters),
        )
        response = await self._dataplane.infer(neutral)
        encoded = pb.ModelInferResponse(
            model_name=response.model, model_version=response.version, id=response.id
        )
        for name, value in response.parameters.items():
            encode_parameter(encoded.parameters[name], value)
        for tensor in response.outputs:
            output, raw = encode_output(tensor)
            encoded.outputs.append(output)
            encoded.raw_output_contents.append(raw)
        return encoded
