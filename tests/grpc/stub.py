"""A grpc.aio client stub for `inference.GRPCInferenceService`, built from the generated messages.

It mirrors what `grpc_predict_v2_pb2_grpc.GRPCInferenceServiceStub` would offer; the proto
generator emits messages only, so the method table is spelled out here (paths and types of
`proto/kserve/grpc_predict_v2.proto`).
"""

from __future__ import annotations

import grpc

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb

SERVICE = "/inference.GRPCInferenceService/"


class InferenceStub:
    """Typed callables for every RPC of the service on one channel."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        def unary(method: str, response: type) -> grpc.aio.UnaryUnaryMultiCallable:
            return channel.unary_unary(
                SERVICE + method,
                request_serializer=_serialize,
                response_deserializer=response.FromString,  # type: ignore[attr-defined]
            )

        self.ServerLive = unary("ServerLive", pb.ServerLiveResponse)
        self.ServerReady = unary("ServerReady", pb.ServerReadyResponse)
        self.ServerMetadata = unary("ServerMetadata", pb.ServerMetadataResponse)
        self.ModelReady = unary("ModelReady", pb.ModelReadyResponse)
        self.ModelMetadata = unary("ModelMetadata", pb.ModelMetadataResponse)
        self.ModelInfer = unary("ModelInfer", pb.ModelInferResponse)
        self.ModelStreamInfer = channel.stream_stream(
            SERVICE + "ModelStreamInfer",
            request_serializer=_serialize,
            response_deserializer=pb.ModelStreamInferResponse.FromString,
        )


def _serialize(message: object) -> bytes:
    data: bytes = message.SerializeToString()  # type: ignore[attr-defined]
    return data
