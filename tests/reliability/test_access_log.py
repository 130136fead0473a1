"""Structured access log: one JSON line per request, request id echoed or created, timing header."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import aiohttp
import grpc
import numpy as np
import pytest

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from tests.grpc.stub import InferenceStub
from tests.grpc.support import raw_request
from tests.running import running_server
from tests.support.toys import write_toy_workspace


def _records(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "ovserve.access"]


async def test_rest_and_grpc_access_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ovserve.access")
    config = write_toy_workspace(tmp_path)
    async with running_server(config) as server, aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{server.rest_port}"
        async with session.get(f"{base}/v2/models/relu", headers={"X-Request-Id": "req-42"}) as r:
            assert r.status == 200
            assert r.headers["X-Request-Id"] == "req-42"
            assert r.headers["X-Total-Time"].isdigit()
        async with session.get(f"{base}/v2/models/nope", headers={"X-Request-Id": "bad id\u00e9"}) as r:
            assert r.status == 404
            generated = r.headers["X-Request-Id"]
            assert re.fullmatch(r"[0-9a-f]{32}", generated)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            stub = InferenceStub(channel)
            call = stub.ModelMetadata(
                pb.ModelMetadataRequest(name="relu"), metadata=(("x-request-id", "g-1"),)
            )
            await call
            assert ("x-request-id", "g-1") in tuple(await call.initial_metadata())
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.ModelMetadata(pb.ModelMetadataRequest(name="nope"))
            anonymous = stub.ModelMetadata(pb.ModelMetadataRequest(name="relu"))
            await anonymous
            generated_grpc = dict(await anonymous.trailing_metadata())["x-request-id"]
            assert re.fullmatch(r"[0-9a-f]{32}", generated_grpc)
            await stub.ModelInfer(raw_request("relu", {"x": ("FP32", np.ones((1, 4), dtype=np.float32))}))
        body = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
        async with session.post(f"{base}/v2/models/relu/infer", json=body) as r:
            assert r.status == 200
    records = _records(caplog)
    rest = [r for r in records if r["protocol"] == "rest"]
    assert {
        "request_id": "req-42",
        "method": "GET",
        "path": "/v2/models/relu",
        "status": 200,
    }.items() <= rest[0].items()
    assert rest[1]["request_id"] == generated
    assert rest[1]["status"] == 404
    # An inference names the servable it was admitted to; metadata requests have no `model`.
    assert {"path": "/v2/models/relu/infer", "model": "relu", "status": 200}.items() <= rest[2].items()
    assert "model" not in rest[0]
    assert "model" not in rest[1]
    assert all(isinstance(r["total_ms"], float) for r in records)
    grpc_records = [r for r in records if r["protocol"] == "grpc"]
    assert [(r["method"], r["status"]) for r in grpc_records] == [
        ("ModelMetadata", "OK"),
        ("ModelMetadata", "NOT_FOUND"),
        ("ModelMetadata", "OK"),
        ("ModelInfer", "OK"),
    ]
    assert grpc_records[3]["model"] == "relu"
    assert all("model" not in r for r in grpc_records[:3])
    assert grpc_records[0]["request_id"] == "g-1"
    assert grpc_records[2]["request_id"] == generated_grpc


async def test_access_log_can_be_turned_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ovserve.access")
    config = write_toy_workspace(tmp_path)
    async with running_server(config, access_log=False) as server, aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{server.rest_port}/v2") as r:
            assert r.status == 200
            assert "X-Request-Id" in r.headers
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            await InferenceStub(channel).ServerLive(pb.ServerLiveRequest())
    assert _records(caplog) == []


async def test_a_stream_echoes_its_request_id_and_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ovserve.access")
    request = raw_request("relu", {"x": ("FP32", np.ones((1, 4), dtype=np.float32))})
    async with (
        running_server(write_toy_workspace(tmp_path)) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        call = InferenceStub(channel).ModelStreamInfer(
            iter([request, request, request]), metadata=(("x-request-id", "s-7"),)
        )
        answers = [answer async for answer in call]
        assert len(answers) == 3
        assert all(not answer.error_message for answer in answers)
        assert ("x-request-id", "s-7") in tuple(await call.initial_metadata())
    streams = [r for r in _records(caplog) if r["protocol"] == "grpc" and r["method"] == "ModelStreamInfer"]
    assert len(streams) == 1
    assert (streams[0]["request_id"], streams[0]["status"]) == ("s-7", "OK")
