"""Readiness means every entry of the start-up config finished loading (AVAILABLE or failed).

Two graphs whose loads wait on gate files the test opens (`tests.support.gated_graph`) keep
the start-up load deterministically unfinished, whatever the machine's speed: a model is
already AVAILABLE and the first graph too while the second is still LOADING, and both
`/v2/health/ready` and gRPC `ServerReady` must say not ready until that graph is done.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import grpc

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.lifecycle.support import eventually
from tests.running import running_server
from tests.support.gated_graph import write_gated_graph
from tests.toy_models import write_relu_model


def write_workspace(root: Path) -> tuple[Path, Path, Path]:
    """(config, gate of graph `first`, gate of graph `second`); model `relu` loads at once."""
    write_relu_model(root / "relu" / "1")
    gates = root / "first.gate", root / "second.gate"
    for name, gate in zip(("first", "second"), gates, strict=True):
        write_gated_graph(root / name, gate)
    entries = [{"config": {"name": name, "base_path": name}} for name in ("relu", "first", "second")]
    config = root / "config.json"
    config.write_text(json.dumps({"model_config_list": entries}))
    return config, *gates


async def states(session: aiohttp.ClientSession, server: Server) -> dict[str, str]:
    async with session.get(f"http://127.0.0.1:{server.rest_port}/v1/config") as response:
        body: dict[str, Any] = await response.json()
    return {name: s["model_version_status"][-1]["state"] for name, s in body.items()}


async def readiness(session: aiohttp.ClientSession, stub: InferenceStub, server: Server) -> tuple[int, bool]:
    """(`/v2/health/ready` status, gRPC `ServerReady.ready`)."""
    async with session.get(f"http://127.0.0.1:{server.rest_port}/v2/health/ready") as response:
        rest = response.status
        if rest != 200:
            assert await response.json() == {"error": "Server is not ready"}
    grpc_ready: bool = (await stub.ServerReady(pb.ServerReadyRequest())).ready
    return rest, grpc_ready


async def test_not_ready_while_a_start_up_graph_is_loading(tmp_path: Path) -> None:
    config, first, second = write_workspace(tmp_path)
    async with (
        running_server(config, wait=False) as server,
        aiohttp.ClientSession() as session,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        stub = InferenceStub(channel)

        async def model_loaded() -> bool:
            return (await states(session, server)).get("relu") == "AVAILABLE"

        await eventually(model_loaded, within=60)
        assert await readiness(session, stub, server) == (503, False)

        first.touch()

        async def first_loaded() -> bool:
            return (await states(session, server)).get("first") == "AVAILABLE"

        await eventually(first_loaded, within=60)
        # `second` cannot have finished: its gate is still closed.
        assert (await states(session, server))["second"] == "LOADING"
        assert await readiness(session, stub, server) == (503, False)

        second.touch()
        await server.wait_ready()
        assert await states(session, server) == {n: "AVAILABLE" for n in ("relu", "first", "second")}
        assert await readiness(session, stub, server) == (200, True)
