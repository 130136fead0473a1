"""gRPC `ModelConfig` (Triton's model-configuration extension): the codec of
`ovserve.model_config` onto `proto/kserve/model_config.proto`'s wire-compatible messages."""

from __future__ import annotations

from typing import Any

import grpc

from ovserve._proto.kserve import model_config_pb2 as config_pb
from ovserve.dataplane import DataPlane
from ovserve.frontends.grpc.kserve_v2 import parse_version
from ovserve.model_config import ModelConfigs


class ModelConfigServicer:
    """`ModelConfig` over one data plane; errors map through the service's `rpc_errors`."""

    def __init__(self, dataplane: DataPlane) -> None:
        self._configs = ModelConfigs(dataplane)

    async def ModelConfig(  # noqa: N802 - RPC names are fixed by the protocol
        self, request: config_pb.ModelConfigRequest, context: grpc.aio.ServicerContext
    ) -> config_pb.ModelConfigResponse:
        values = await self._configs.config(request.name, parse_version(request.version))
        config = config_pb.ModelConfig(
            name=str(values["name"]),
            platform=str(values["platform"]),
            backend=str(values["backend"]),
            max_batch_size=0,
            version_policy=config_pb.ModelVersionPolicy(
                latest=config_pb.ModelVersionPolicy.Latest(num_versions=1)
            ),
            model_transaction_policy=config_pb.ModelTransactionPolicy(decoupled=False),
        )
        for spec in _tensors(values["input"]):
            config.input.add(
                name=spec["name"], data_type=config_pb.DataType.Value(spec["data_type"]), dims=spec["dims"]
            )
        for spec in _tensors(values["output"]):
            config.output.add(
                name=spec["name"], data_type=config_pb.DataType.Value(spec["data_type"]), dims=spec["dims"]
            )
        return config_pb.ModelConfigResponse(config=config)


def _tensors(value: object) -> list[dict[str, Any]]:
    assert isinstance(value, list)
    return value
