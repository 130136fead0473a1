"""Registration of `inference.GRPCInferenceService` on a grpc.aio server.

The method table is written here rather than taken from a generated `_pb2_grpc.py`: the
proto generator (`ovserve._proto.generate`) emits messages only. Paths, request and response
types are those of `proto/kserve/grpc_predict_v2.proto`; `rpc_errors` wraps every unary
method, which is where the error taxonomy becomes status codes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.message import Message

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve._proto.kserve import model_config_pb2 as config_pb
from ovserve.frontends.grpc.errors import UnaryHandler, lenient, rpc_errors
from ovserve.frontends.grpc.kserve_v2 import KServeServicer
from ovserve.frontends.grpc.model_config import ModelConfigServicer

SERVICE_NAME = "inference.GRPCInferenceService"


def method_handlers(servicer: KServeServicer) -> dict[str, grpc.RpcMethodHandler]:
    """The RPC method handlers of the service, by method name."""

    def unary(
        handler: UnaryHandler[Any, Any], request: type[Message], response: type[Message]
    ) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(
            rpc_errors(handler),
            request_deserializer=lenient(request),
            response_serializer=response.SerializeToString,
        )

    return {
        "ServerLive": unary(servicer.ServerLive, pb.ServerLiveRequest, pb.ServerLiveResponse),
        "ServerReady": unary(servicer.ServerReady, pb.ServerReadyRequest, pb.ServerReadyResponse),
        "ModelReady": unary(servicer.ModelReady, pb.ModelReadyRequest, pb.ModelReadyResponse),
        "ServerMetadata": unary(servicer.ServerMetadata, pb.ServerMetadataRequest, pb.ServerMetadataResponse),
        "ModelMetadata": unary(servicer.ModelMetadata, pb.ModelMetadataRequest, pb.ModelMetadataResponse),
        "ModelInfer": unary(servicer.ModelInfer, pb.ModelInferRequest, pb.ModelInferResponse),
        # Triton's model-configuration extension (`proto/kserve/model_config.proto`).
        "ModelConfig": unary(
            ModelConfigServicer(servicer.dataplane).ModelConfig,
            config_pb.ModelConfigRequest,
            config_pb.ModelConfigResponse,
        ),
        "ModelStreamInfer": grpc.stream_stream_rpc_method_handler(
            servicer.ModelStreamInfer,
            request_deserializer=lenient(pb.ModelInferRequest),
            response_serializer=pb.ModelStreamInferResponse.SerializeToString,
        ),
    }


def add_servicer(
    server: grpc.aio.Server,
    servicer: KServeServicer,
    wrap: Callable[[str, grpc.RpcMethodHandler], grpc.RpcMethodHandler] | None = None,
) -> None:
    """Register every method of `servicer` on `server` (before `server.start()`), each handler
    passed through `wrap(method name, handler)` when given (access log, metrics labels)."""
    handlers = method_handlers(servicer)
    if wrap is not None:
        handlers = {name: wrap(name, handler) for name, handler in handlers.items()}
    handler = grpc.method_handlers_generic_handler(SERVICE_NAME, handlers)
    server.add_generic_rpc_handlers((handler,))
