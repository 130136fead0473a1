"""Front-end limits answer with a clear 4xx / gRPC status, and the server keeps serving."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import grpc
import numpy as np
import pytest

from ovserve.config import RequestLimits
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.grpc.support import raw_request, rpc_error, texts_request
from tests.reliability.support import grpc_answer_matches, grpc_request, rest_answer_matches, rest_body
from tests.running import running_server
from tests.support.toys import write_slow_workspace

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def slow_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_slow_workspace(Path(tmp_path_factory.mktemp("slow")))


async def _post(server: Server, path: str, data: bytes) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{server.rest_port}{path}", data=data, headers=JSON) as r,
    ):
        return r.status, await r.text()


async def _serves(server: Server) -> bool:
    body, x = rest_body(7)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{server.rest_port}/v2/models/slow/infer", data=body, headers=JSON
        ) as r,
    ):
        return r.status == 200 and rest_answer_matches(await r.read(), x)


async def test_body_size_inputs_and_message_size(slow_config: Path) -> None:
    limits = RequestLimits(max_body_bytes=50_000, max_inputs_per_request=3, max_grpc_message_bytes=50_000)
    async with running_server(slow_config, limits=limits) as server:
        status, text = await _post(server, "/v2/models/slow/infer", b"[" * 60_000)
        assert status == 413
        assert "Request body too large: Maximum request body size 50000 exceeded" in text

        four = b'{"inputs":[{"name":"x","datatype":"BYTES","shape":[4],"data":["a","b","c","d"]}]}'
        status, text = await _post(server, "/v2/models/slow/infer", four)
        assert status == 400
        assert "request has 4 inputs, more than the limit of 3 per request" in text

        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            stub = InferenceStub(channel)
            error = await rpc_error(stub.ModelInfer(texts_request("slow", ["a", "b", "c", "d"], raw=True)))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "more than the limit of 3 per request" in (error.details() or "")
            big = raw_request("slow", {"x": ("FP32", np.zeros((20, 1024), dtype=np.float32))})
            error = await rpc_error(stub.ModelInfer(big))
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "Received message larger than max" in (error.details() or "")
            request, x = grpc_request(3)
            assert grpc_answer_matches(await stub.ModelInfer(request), x)
        assert await _serves(server)


async def test_request_timeout_is_504_and_deadline_exceeded(slow_config: Path) -> None:
    limits = RequestLimits(request_timeout_seconds=0.001)
    async with running_server(slow_config, limits=limits) as server:
        body, _ = rest_body(1)
        status, text = await _post(server, "/v2/models/slow/infer", body)
        assert status == 504
        assert "request to slow timed out after 0.001 s (--request_timeout_seconds)" in text
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            request, _ = grpc_request(1)
            error = await rpc_error(InferenceStub(channel).ModelInfer(request))
            assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert "timed out after 0.001 s" in (error.details() or "")
        # Timed-out work finishes in the background and frees nothing twice.
        assert server.guard.inflight("slow") == 0
