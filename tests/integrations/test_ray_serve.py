"""ovserve on Ray Serve, end to end: a real local Ray, two replicas, Ray's HTTP proxy, real clients.

One Ray instance and one application for the module (Ray takes ~10-15 s to start on 2 cores,
each replica ~3 s to load the workspace); a directly started ovserve on the same workspace is
the reference for bodies, statuses and vectors.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import openai
import pytest
import pytest_asyncio

from ovserve.server import Server
from tests.running import running_server
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace

ray = pytest.importorskip("ray")
# importorskip silences warnings while importing: Ray 2.60's serve trips a pydantic
# deprecation warning at import, which this suite's `filterwarnings = error` would raise.
serve = pytest.importorskip("ray.serve")

from ovserve.integrations.ray import REPLICA_HEADER, build_app  # noqa: E402  (needs ray)

pytestmark = pytest.mark.slow

TEXTS = ["hello world", "Ray Serve scales ovserve out", "", "naïve café 東京"]
APP_NAME = "ovserve-test"


def exact_workspace() -> Path:
    """The fp32 export, whose plugin_config pins f32 execution: what makes the vectors of two
    replicas, and of a batch and a lone request, equal to fp32 rounding on every CPU (at the
    plugin default a bf16 CPU promises only `Execution.batch_bound`'s reduced bound)."""
    return exported_workspace("fp32")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def ray_url() -> Iterator[str]:
    """A local Ray (2 CPUs, no dashboard) serving the exact workspace with 2 replicas."""
    config_path = exact_workspace()
    saved = os.environ.get("RAY_AUTH_MODE")
    # A throw-away cluster on loopback: no auth token written to the home directory.
    os.environ["RAY_AUTH_MODE"] = "disabled"
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024 * 1024,
        log_to_driver=False,
    )
    try:
        port = _free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(build_app(config_path, replicas=2, num_cpus=1), name=APP_NAME, route_prefix="/")
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def direct() -> AsyncIterator[Server]:
    """The same workspace on a directly started ovserve, the reference."""
    async with running_server(exact_workspace()) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _direct_url(server: Server) -> str:
    return f"http://127.0.0.1:{server.rest_port}"


async def _embed(base_url: str, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    async with openai.AsyncOpenAI(base_url=f"{base_url}/v3", api_key="unused", max_retries=0) as client:
        result = await client.embeddings.create(model=DEFAULT_GRAPH_NAME, input=texts)
    assert [item.index for item in result.data] == list(range(len(texts)))
    return np.array([item.embedding for item in result.data], dtype=np.float64)


@pytest.mark.asyncio(loop_scope="module")
async def test_openai_client_gets_the_vectors_of_a_direct_ovserve(ray_url: str, direct: Server) -> None:
    through_ray = await _embed(ray_url, TEXTS)
    reference = await _embed(_direct_url(direct), TEXTS)
    assert through_ray.shape == (len(TEXTS), 384)
    # Replicas run OpenVINO on 1 thread, the reference on all cores; the CPU plugin splits
    # work across threads by rows, not along reductions, so the floats are the same.
    np.testing.assert_array_equal(through_ray, reference)


@pytest.mark.asyncio(loop_scope="module")
async def test_both_replicas_answer_concurrent_requests(ray_url: str, session: aiohttp.ClientSession) -> None:
    body = {"model": DEFAULT_GRAPH_NAME, "input": "which replica are you?"}

    async def one() -> tuple[str, bytes]:
        async with session.post(f"{ray_url}/v3/embeddings", json=body) as response:
            assert response.status == 200
            return response.headers[REPLICA_HEADER], await response.read()

    seen: set[str] = set()
    documents: list[dict[str, Any]] = []
    for _ in range(5):  # Ray picks replicas at random; 16 at once reach both in practice
        answers = await asyncio.gather(*(one() for _ in range(16)))
        seen.update(replica for replica, _ in answers)
        documents += [json.loads(content) for _, content in answers]
        if len(seen) == 2:
            break
    assert len(seen) == 2, seen
    # The same input gives the same answer, whichever replica answered. The vectors agree to
    # fp32 rounding, not bit for bit: concurrent requests are batched, and OpenVINO's kernels
    # for a batch of 16 may round differently from those for 1 (seen: 1.6e-7 in ~1 of 20).
    vectors = np.array([d["data"][0].pop("embedding") for d in documents], dtype=np.float64)
    assert all(d == documents[0] for d in documents)
    np.testing.assert_allclose(vectors, np.broadcast_to(vectors[0], vectors.shape), rtol=0, atol=1e-6)


@pytest.mark.asyncio(loop_scope="module")
async def test_one_request_id_the_client_s_when_given(ray_url: str, session: aiohttp.ClientSession) -> None:
    body = {"model": DEFAULT_GRAPH_NAME, "input": "x"}
    given_id = {"X-Request-Id": "abc-123"}
    async with session.post(f"{ray_url}/v3/embeddings", json=body, headers=given_id) as given:
        assert given.headers.getall("X-Request-Id") == ["abc-123"]
    async with session.post(f"{ray_url}/v3/embeddings", json=body) as generated:
        assert len(generated.headers.getall("X-Request-Id")) == 1
        assert len(generated.headers.getall("Date")) == 1


def test_each_replica_runs_openvino_on_its_own_cpu(ray_url: str) -> None:
    handle = serve.get_app_handle(APP_NAME)
    properties = handle.openvino_cpu_properties.remote().result(timeout_s=30)
    assert properties == {"INFERENCE_NUM_THREADS": "1", "ENABLE_CPU_PINNING": "False"}


ERROR_CASES = [
    pytest.param("POST", "/v3/embeddings", {"model": "no-such-graph", "input": "x"}, 404, id="unknown-graph"),
    pytest.param("POST", "/v3/embeddings", {"input": "x"}, 412, id="missing-model"),
    pytest.param("POST", "/v3/embeddings", b"{not json", 412, id="invalid-json"),
    pytest.param(
        "POST",
        "/v3/embeddings",
        {"model": DEFAULT_GRAPH_NAME, "input": "x", "encoding_format": "hex"},
        400,
        id="graph-validation",
    ),
    pytest.param(
        "POST",
        "/v2/models/no-such-model/infer",
        {"inputs": [{"name": "input", "shape": [1], "datatype": "BYTES", "data": ["x"]}]},
        404,
        id="kserve-unknown-model",
    ),
    pytest.param("GET", "/v3/embeddings", None, 405, id="openai-method-not-allowed"),
    pytest.param("GET", "/no/such/route", None, 404, id="unknown-route"),
    pytest.param("DELETE", "/v2/health/ready", None, 405, id="method-not-allowed"),
    pytest.param("GET", "/v2/health/ready", None, 200, id="ready"),
    pytest.param("GET", "/v1/config", None, 200, id="config"),
    pytest.param("HEAD", "/v1/config", None, 200, id="config-head"),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("method", "path", "payload", "status"), ERROR_CASES)
async def test_statuses_and_bodies_are_ovserve_s(
    ray_url: str,
    direct: Server,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    payload: object,
    status: int,
) -> None:
    async def call(base_url: str) -> tuple[int, str, str | None, bytes]:
        if isinstance(payload, bytes):
            kwargs: dict[str, Any] = {"data": payload, "headers": {"Content-Type": "application/json"}}
        else:
            kwargs = {} if payload is None else {"json": payload}
        async with session.request(method, base_url + path, **kwargs) as response:
            content = await response.read()
            length = response.headers.get("Content-Length")
            return response.status, response.headers.get("Content-Type", ""), length, content

    through_ray = await call(ray_url)
    reference = await call(_direct_url(direct))
    assert through_ray[0] == status
    assert through_ray == reference
    if status >= 400:
        error = json.loads(through_ray[3])["error"]
        if path.startswith("/v3/"):  # OpenAI shape
            assert set(error) == {"message", "type", "code"}
            assert error["code"] == status
        else:  # KServe shape
            assert isinstance(error, str)


@pytest.mark.asyncio(loop_scope="module")
async def test_openai_client_sees_the_openai_error(ray_url: str, direct: Server) -> None:
    errors = []
    for base_url in (ray_url, _direct_url(direct)):
        async with openai.AsyncOpenAI(base_url=f"{base_url}/v3", api_key="unused", max_retries=0) as client:
            with pytest.raises(openai.NotFoundError) as caught:
                await client.embeddings.create(model="no-such-graph", input="x")
        errors.append(caught.value)
    through_ray, reference = errors
    assert through_ray.status_code == 404
    assert through_ray.body == reference.body
    assert isinstance(through_ray.body, dict)
    assert through_ray.body["type"] == "not_found_error"
