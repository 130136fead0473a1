"""Graph metrics on the exported embeddings workspace: `/v3/embeddings`, KServe REST and gRPC.

One server for the module, with an admission limit of 1 on the graph so that a refusal can be
made deterministically (its batcher is held while one request is in it). Each test compares
a scrape after its requests with one before, so the tests do not depend on each other.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import aiohttp
import grpc
import pytest
import pytest_asyncio

from calculators.batching import DynamicBatcher
from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.config import RequestLimits
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.grpc.support import texts_request
from tests.metrics.support import Delta, scrape
from tests.running import running_server
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

GRAPH = DEFAULT_GRAPH_NAME
V3 = {"api": "V3", "interface": "REST", "method": "Unary", "name": GRAPH}
KSERVE_REST = {"api": "KServe", "interface": "REST", "method": "ModelInfer", "name": GRAPH}
KSERVE_GRPC = {"api": "KServe", "interface": "gRPC", "method": "ModelInfer", "name": GRAPH}
KSERVE_STREAM = {"api": "KServe", "interface": "gRPC", "method": "ModelInferStream", "name": GRAPH}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server() -> AsyncIterator[Server]:
    limits = RequestLimits(max_inflight_per_servable={GRAPH: 1})
    async with running_server(exported_workspace(), metrics_enable=True, limits=limits) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stub(server: Server) -> AsyncIterator[InferenceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        yield InferenceStub(channel)


async def embed(session: aiohttp.ClientSession, server: Server, body: object) -> tuple[int, object]:
    url = f"http://127.0.0.1:{server.rest_port}/v3/embeddings"
    async with session.post(url, json=body) as response:
        return response.status, await response.json()


async def test_v3_embeddings_count_accepted_responses_errors_and_tokens(
    server: Server, session: aiohttp.ClientSession
) -> None:
    before = await scrape(session, server)
    status, answer = await embed(session, server, {"model": GRAPH, "input": ["hello world", "good morning"]})
    assert status == 200
    assert isinstance(answer, dict)
    tokens = answer["usage"]["prompt_tokens"]
    status, _ = await embed(session, server, {"model": GRAPH, "input": 5})  # refused inside the graph
    assert status == 400
    status, _ = await embed(session, server, {"model": "no-such-graph", "input": "x"})
    assert status == 404
    moved = Delta(before, await scrape(session, server))
    assert moved("ovms_requests_accepted_total", **V3) == 2
    assert moved("ovms_responses_total", **V3) == 1
    assert moved("ovms_graph_error_total", **V3) == 1
    assert moved("ovms_graph_processing_time_us_count", name=GRAPH, method="Unary") == 2
    assert moved("ovserve_prompt_tokens_total", name=GRAPH) == tokens
    assert moved.after.value("ovms_current_graphs", name=GRAPH) == 0
    assert "no-such-graph" not in moved.after.text


async def test_v3_tokenize_is_a_graph_run_without_prompt_tokens(
    server: Server, session: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{server.rest_port}/v3/tokenize"
    before = await scrape(session, server)
    async with session.post(url, json={"model": GRAPH, "text": ["hello", "world"]}) as response:
        assert response.status == 200
    async with session.post(url, json={"model": GRAPH, "text": 5}) as response:
        assert response.status == 400
    moved = Delta(before, await scrape(session, server))
    assert moved("ovms_requests_accepted_total", **V3) == 2
    assert moved("ovms_responses_total", **V3) == 1
    assert moved("ovms_graph_error_total", **V3) == 1
    assert moved("ovserve_prompt_tokens_total", name=GRAPH) == 0


async def test_kserve_rest_graph_infer_counts_under_kserve_model_infer(
    server: Server, session: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{server.rest_port}/v2/models/{GRAPH}/infer"
    good = {"inputs": [{"name": "input", "datatype": "BYTES", "shape": [1], "data": ["hello"]}]}
    wrong_input = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["hello"]}]}
    before = await scrape(session, server)
    async with session.post(url, json=good) as response:
        assert response.status == 200
    async with session.post(url, json=wrong_input) as response:
        assert response.status == 400  # refused by the data plane before the graph ran
    moved = Delta(before, await scrape(session, server))
    assert moved("ovms_requests_accepted_total", **KSERVE_REST) == 1
    assert moved("ovms_responses_total", **KSERVE_REST) == 1
    assert moved("ovms_requests_rejected_total", **KSERVE_REST) == 1
    assert moved("ovms_graph_error_total", **KSERVE_REST) == 0
    assert moved("ovms_graph_processing_time_us_count", name=GRAPH, method="ModelInfer") >= 1


async def test_kserve_grpc_unary_and_stream_are_told_apart(
    server: Server, session: aiohttp.ClientSession, stub: InferenceStub
) -> None:
    before = await scrape(session, server)
    await stub.ModelInfer(texts_request(GRAPH, ["hello"], raw=True))
    metadata = await stub.ModelMetadata(pb.ModelMetadataRequest(name=GRAPH))  # probes the graph once
    assert metadata.outputs[0].shape[-1] == 384

    async def requests() -> AsyncIterator[pb.ModelInferRequest]:
        yield texts_request(GRAPH, ["one"], raw=True)
        yield texts_request(GRAPH, [], raw=True)  # empty input: refused before the graph
        yield texts_request(GRAPH, ["two", "three"], raw=False)

    answers = [a async for a in stub.ModelStreamInfer(requests())]
    assert [bool(a.error_message) for a in answers] == [False, True, False]
    moved = Delta(before, await scrape(session, server))
    assert moved("ovms_requests_accepted_total", **KSERVE_GRPC) == 1
    assert moved("ovms_responses_total", **KSERVE_GRPC) == 1
    assert moved("ovms_requests_accepted_total", **KSERVE_STREAM) == 2
    assert moved("ovms_responses_total", **KSERVE_STREAM) == 2
    assert moved("ovms_requests_rejected_total", **KSERVE_STREAM) == 1
    # The metadata call embeds a probe text once; it counts as ModelMetadata, not as inference.
    metadata = {"api": "KServe", "interface": "gRPC", "method": "ModelMetadata", "name": GRAPH}
    assert moved("ovms_requests_success_total", **metadata) == 1
    assert moved("ovms_requests_accepted_total", **metadata) == 0


async def test_graph_readiness_over_rest_has_no_version_label(
    server: Server, session: aiohttp.ClientSession
) -> None:
    before = await scrape(session, server)
    async with session.get(f"http://127.0.0.1:{server.rest_port}/v2/models/{GRAPH}/ready") as response:
        assert response.status == 200
    moved = Delta(before, await scrape(session, server))
    labels = {"api": "KServe", "interface": "REST", "method": "ModelReady", "name": GRAPH}
    assert moved("ovms_requests_success_total", **labels) == 1
    assert [s for s in moved.after.series("ovms_requests_success_total") if s.get("name") == GRAPH
            and s["method"] == "ModelReady"] == [labels]  # fmt: skip


async def test_batch_sizes_and_model_gauges(server: Server, session: aiohttp.ClientSession) -> None:
    status, _ = await embed(session, server, {"model": GRAPH, "input": ["a", "b", "c"]})
    assert status == 200
    result = await scrape(session, server)
    batches = result.value("ovserve_batch_size_count", name=GRAPH)
    assert batches >= 1
    assert result.value("ovserve_batch_size_sum", name=GRAPH) >= 3
    assert result.value("ovserve_batch_size_bucket", name=GRAPH, le="+Inf") == batches
    assert result.value("ovserve_batch_size_bucket", name=GRAPH, le="2") < batches  # the 3-text batch
    assert result.types["ovserve_batch_size"] == "histogram"
    # Every batch-capable node (pooling, normalize, response) has called process_batch.
    nodes = server.repository.graph(GRAPH).stats().node_batches
    assert len(nodes) >= 3
    for node in nodes:
        assert result.value("ovserve_node_batch_runs_count", name=GRAPH, node=node) >= 1
        assert result.value("ovserve_node_batch_runs_bucket", name=GRAPH, node=node, le="+Inf") >= 1
    assert result.types["ovserve_node_batch_runs"] == "histogram"
    for model in (f"{GRAPH}_tokenizer_model", f"{GRAPH}_embeddings_model"):
        assert result.value("ovms_streams", name=model, version="1") >= 1


def batchers(server: Server) -> list[DynamicBatcher[object]]:
    graph = server.repository.graph(GRAPH)
    states = graph._loaded.node_state.values()  # type: ignore[attr-defined]
    return [s.batcher for s in states if isinstance(getattr(s, "batcher", None), DynamicBatcher)]


@pytest.fixture
def held(server: Server) -> Iterator[threading.Event]:
    """Every slot of the graph's batcher busy until the returned event is set."""
    (batcher,) = batchers(server)
    release, holding = threading.Event(), threading.Event()

    def hold() -> None:
        with batcher.hold():
            holding.set()
            release.wait(60)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(60)
    try:
        yield release
    finally:
        release.set()
        thread.join(60)


async def test_admission_refusal_is_a_rejected_request_and_depth_shows(
    server: Server, session: aiohttp.ClientSession, held: threading.Event
) -> None:
    before = await scrape(session, server)
    first = asyncio.create_task(embed(session, server, {"model": GRAPH, "input": "waits for the batcher"}))
    async with asyncio.timeout(60):
        while server.guard.inflight(GRAPH) < 1:  # noqa: ASYNC110 - the guard has no event to wait on
            await asyncio.sleep(0.01)
    during = await scrape(session, server)
    assert during.value("ovserve_admission_queue_depth", name=GRAPH) == 1
    assert during.value("ovms_current_graphs", name=GRAPH) == 1
    status, answer = await embed(session, server, {"model": GRAPH, "input": "one too many"})
    assert status == 429, answer
    held.set()
    status, _ = await first
    assert status == 200
    moved = Delta(before, await scrape(session, server))
    assert moved("ovms_requests_rejected_total", **V3) == 1
    assert moved("ovms_requests_accepted_total", **V3) == 1
    assert moved.after.value("ovserve_admission_queue_depth", name=GRAPH) == 0
