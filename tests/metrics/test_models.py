"""Model (not graph) inference metrics, over KServe REST and gRPC, on the toy models.

`relu` serves versions 1 and 2 (the default is 2); a request with a wrong input fails in the
data plane after the version was resolved, so it counts as failed for that version.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import grpc
import numpy as np
import pytest
import pytest_asyncio

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.config import RequestLimits
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.grpc.support import raw_request
from tests.metrics.support import Delta, Scrape, scrape
from tests.running import running_server
from tests.support.toys import write_toy_workspace

pytestmark = pytest.mark.asyncio(loop_scope="module")

GOOD = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, -2, 3, 4]}]}
BAD = {"inputs": [{"name": "y", "datatype": "FP32", "shape": [1], "data": [1]}]}
REST = {"api": "KServe", "interface": "REST", "method": "ModelInfer", "name": "relu"}
GRPC = {**REST, "interface": "gRPC"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    config = write_toy_workspace(Path(tmp_path_factory.mktemp("toys")))
    listed = ("ovms_requests_success", "ovms_requests_fail", "ovms_request_time_us", "ovms_inference_time_us",
              "ovms_wait_for_infer_req_time_us", "ovms_current_requests", "ovms_infer_req_active",
              "ovserve_admission_queue_depth")  # fmt: skip
    async with running_server(config, metrics_enable=True, metrics_list=listed) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def post(session: aiohttp.ClientSession, server: Server, path: str, body: object) -> int:
    async with session.post(f"http://127.0.0.1:{server.rest_port}{path}", json=body) as response:
        return response.status


async def test_rest_infer_counts_success_and_failure_per_version(
    server: Server, session: aiohttp.ClientSession
) -> None:
    before = await scrape(session, server)
    assert await post(session, server, "/v2/models/relu/infer", GOOD) == 200
    assert await post(session, server, "/v2/models/relu/versions/1/infer", GOOD) == 200
    assert await post(session, server, "/v2/models/relu/infer", BAD) == 400
    assert await post(session, server, "/v2/models/nope/infer", GOOD) == 404
    after = await scrape(session, server)

    def moved(sample: str, **labels: str) -> float:
        return after.value(sample, **labels) - before.value(sample, **labels)

    assert moved("ovms_requests_success_total", **REST, version="2") == 1
    assert moved("ovms_requests_success_total", **REST, version="1") == 1
    assert moved("ovms_requests_fail_total", **REST, version="2") == 1
    assert moved("ovms_request_time_us_count", interface="REST", name="relu", version="2") == 2
    assert moved("ovms_inference_time_us_count", name="relu", version="2") == 1  # successful runs only
    assert moved("ovms_wait_for_infer_req_time_us_count", name="relu", version="2") == 1
    assert after.value("ovms_current_requests", name="relu", version="2") == 0
    assert after.value("ovms_infer_req_active", name="relu", version="2") == 0
    # Unknown names get no series: any client could otherwise grow the output without bound.
    assert "nope" not in after.text
    assert_exact_ovms_text(after)


async def test_concurrent_inferences_share_the_bounded_infer_requests(
    server: Server, session: aiohttp.ClientSession
) -> None:
    # More requests than the model's infer requests: the rest wait for one, and every answer
    # is still its own (the outputs are copied before the request is lent again).
    before = await scrape(session, server)
    bodies = [
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [i, -i, 2 * i, -1]}]}
        for i in range(24)
    ]

    async def infer(body: object) -> list[float]:
        async with session.post(f"http://127.0.0.1:{server.rest_port}/v2/models/relu/infer", json=body) as r:
            assert r.status == 200
            answer = await r.json()
        (relu,) = [output for output in answer["outputs"] if output["name"] == "relu"]
        data: list[float] = relu["data"]
        return data

    answers = await asyncio.gather(*(infer(b) for b in bodies))
    # Version 2 is relu(x) + 1.
    assert answers == [[i + 1.0, 1.0, 2 * i + 1.0, 1.0] for i in range(24)]
    after = await scrape(session, server)
    waited = after.value("ovms_wait_for_infer_req_time_us_count", name="relu", version="2")
    assert waited - before.value("ovms_wait_for_infer_req_time_us_count", name="relu", version="2") == 24


def assert_exact_ovms_text(result: Scrape) -> None:
    """The text as OVMS writes it: counter samples under the family name, integral `le`."""
    assert (
        '\novms_requests_success{api="KServe",interface="REST",method="ModelInfer",name="relu",version="2"} '
        in (result.text)
    )
    assert 'ovms_request_time_us_bucket{interface="REST",name="relu",version="2",le="10"} ' in result.text
    assert (
        'ovms_request_time_us_bucket{interface="REST",name="relu",version="2",le="1474755971"} '
        in result.text
    )
    assert 'le="+Inf"' in result.text


async def test_grpc_infer_counts_under_interface_grpc(server: Server, session: aiohttp.ClientSession) -> None:
    before = await scrape(session, server)
    x = np.array([[1, -2, 3, 4]], dtype=np.float32)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = InferenceStub(channel)
        await stub.ModelInfer(raw_request("relu", {"x": ("FP32", x)}))
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.ModelInfer(raw_request("relu", {"y": ("FP32", x)}))
        assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    after = await scrape(session, server)
    assert after.value("ovms_requests_success_total", **GRPC, version="2") == (
        before.value("ovms_requests_success_total", **GRPC, version="2") + 1
    )
    assert after.value("ovms_requests_fail_total", **GRPC, version="2") == (
        before.value("ovms_requests_fail_total", **GRPC, version="2") + 1
    )
    assert after.value("ovms_request_time_us_count", interface="gRPC", name="relu", version="2") == (
        before.value("ovms_request_time_us_count", interface="gRPC", name="relu", version="2") + 2
    )


async def test_admission_depth_lists_every_servable_at_zero_when_idle(
    server: Server, session: aiohttp.ClientSession
) -> None:
    result = await scrape(session, server)
    depth = {s["name"]: result.value("ovserve_admission_queue_depth", name=s["name"])
             for s in result.series("ovserve_admission_queue_depth")}  # fmt: skip
    assert depth == {"relu": 0, "types": 0, "broken": 0}


async def test_admission_refusal_of_a_model_request_counts_as_failed(tmp_path: Path) -> None:
    """REST KServe admits a request before reading its body: one whose body is not all sent
    yet holds the only slot, deterministically, and the next one is refused (429)."""
    config = write_toy_workspace(tmp_path)
    limits = RequestLimits(max_inflight_per_servable={"relu": 1})
    async with (
        running_server(config, metrics_enable=True, limits=limits) as server,
        aiohttp.ClientSession() as session,
    ):
        before = await scrape(session, server)
        body = json.dumps(GOOD).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.rest_port)
        head = (
            f"POST /v2/models/relu/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body[:10])
        await writer.drain()
        async with asyncio.timeout(60):
            while server.guard.inflight("relu") < 1:  # noqa: ASYNC110 - the guard has no event to wait on
                await asyncio.sleep(0.01)
        during = await scrape(session, server)
        assert during.value("ovserve_admission_queue_depth", name="relu") == 1
        assert await post(session, server, "/v2/models/relu/infer", GOOD) == 429
        writer.write(body[10:])
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        assert status_line.split()[1] == b"200"
        after = await scrape(session, server)
    assert (
        after.value("ovms_requests_fail_total", **REST, version="2")
        - (before.value("ovms_requests_fail_total", **REST, version="2"))
        == 1
    )
    assert after.value("ovms_requests_success_total", **REST, version="2") == 1
    assert after.value("ovserve_admission_queue_depth", name="relu") == 0


async def test_metadata_and_readiness_calls_count_as_ovms_does(
    server: Server, session: aiohttp.ClientSession
) -> None:
    """ModelMetadata under the version it describes, ModelReady without a version label."""
    before = await scrape(session, server)
    base = f"http://127.0.0.1:{server.rest_port}/v2/models"
    for path, status in [("/relu", 200), ("/relu/versions/1", 200), ("/relu/ready", 200),
                         ("/broken/ready", 404), ("/nope", 404), ("/relu/versions/9", 404)]:  # fmt: skip
        async with session.get(base + path) as response:
            assert response.status == status, path
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = InferenceStub(channel)
        await stub.ModelMetadata(pb.ModelMetadataRequest(name="relu"))
        await stub.ModelReady(pb.ModelReadyRequest(name="relu", version="1"))
    moved = Delta(before, await scrape(session, server))
    rest = {"api": "KServe", "interface": "REST"}
    assert moved("ovms_requests_success_total", **rest, method="ModelMetadata", name="relu", version="2") == 1
    assert moved("ovms_requests_success_total", **rest, method="ModelMetadata", name="relu", version="1") == 1
    assert moved("ovms_requests_success_total", **rest, method="ModelReady", name="relu") == 1
    assert moved("ovms_requests_fail_total", **rest, method="ModelReady", name="broken") == 1
    grpc_labels = {"api": "KServe", "interface": "gRPC", "name": "relu"}
    assert moved("ovms_requests_success_total", **grpc_labels, method="ModelMetadata", version="2") == 1
    assert moved("ovms_requests_success_total", **grpc_labels, method="ModelReady") == 1
    # As OVMS writes it: no `version` label at all on ModelReady series.
    assert '\novms_requests_success{api="KServe",interface="gRPC",method="ModelReady",name="relu"} 1\n' in (
        moved.after.text
    )
    assert "nope" not in moved.after.text
    assert 'version="9"' not in moved.after.text
