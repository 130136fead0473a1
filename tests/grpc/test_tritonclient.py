"""A stock client: `tritonclient.grpc` against the exported workspace.

The client runs in a child interpreter (see `triton_probe`: its protobuf messages clash with
ovserve's in one process) while this module's event loop keeps serving; the probe's JSON
report is checked here, and its vectors are compared with the grpc.aio stub's.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.grpc.support import GRAPH, TOKENIZER, output_array, texts_request
from tests.support.models import REPO_ROOT

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def report(model_server: Server) -> dict[str, Any]:
    url = f"127.0.0.1:{model_server.grpc_port}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.grpc.triton_probe", url, GRAPH, TOKENIZER,
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, stderr.decode()
    parsed: dict[str, Any] = json.loads(stdout)
    return parsed


async def test_health_and_server_metadata(report: dict[str, Any]) -> None:
    assert (report["live"], report["ready"], report["graph_ready"]) == (True, True, True)
    assert report["server_metadata"]["name"] == "OpenVINO Model Server"


async def test_model_metadata(report: dict[str, Any]) -> None:
    graph = report["graph_metadata"]
    assert graph["inputs"] == [{"name": "input", "datatype": "BYTES", "shape": ["-1"]}]
    assert graph["outputs"] == [{"name": "output", "datatype": "FP32", "shape": ["-1", "384"]}]
    assert report["tokenizer_metadata"]["inputs"][0]["datatype"] == "BYTES"


async def test_embeddings_equal_the_grpc_stubs(report: dict[str, Any], model_stub: InferenceStub) -> None:
    texts = ["The quick brown fox", "jumps over the lazy dog"]
    response = await model_stub.ModelInfer(texts_request(GRAPH, texts, raw=True))
    np.testing.assert_array_equal(
        np.array(report["embeddings"], dtype=np.float32), output_array(response, "output")
    )
    assert report["prompt_tokens"] == response.parameters["prompt_tokens"].int64_param
    assert report["dimensions_shape"] == [2, 64]
    assert report["input_ids"] == [[101, 7592, 2088, 102]]


async def test_errors_carry_status_and_message(report: dict[str, Any]) -> None:
    assert report["errors"] == {
        "unknown_model": {
            "status": "StatusCode.NOT_FOUND",
            "message": "Model with requested name is not found",
        },
        "bad_parameter": {
            "status": "StatusCode.INVALID_ARGUMENT",
            "message": "request parameter normalize is not supported: it is set by the graph "
            "(option normalize_embeddings of its embeddings calculator)",
        },
        "unknown_ready": {
            "status": "StatusCode.NOT_FOUND",
            "message": "Model with requested name is not found",
        },
        "unknown_config": {
            "status": "StatusCode.NOT_FOUND",
            "message": "Model with requested name is not found",
        },
        "graph_config_v2": {
            "status": "StatusCode.NOT_FOUND",
            "message": "Model with requested version is not found",
        },
    }


async def test_model_config_is_what_perf_analyzer_needs(report: dict[str, Any]) -> None:
    """`get_model_config` (Triton's proto, decoding ovserve's wire-compatible answer)."""
    config = report["graph_config"]["config"]
    assert config["name"] == GRAPH
    assert config.get("max_batch_size", 0) == 0  # proto3 JSON leaves out a zero
    assert config["input"] == [{"name": "input", "data_type": "TYPE_STRING", "dims": ["-1"]}]
    assert config["output"] == [{"name": "output", "data_type": "TYPE_FP32", "dims": ["-1", "384"]}]
    assert config["version_policy"] == {"latest": {"num_versions": 1}}
    assert report["graph_config_v1"] == report["graph_config"]
    assert report["tokenizer_config"]["config"]["input"][0]["data_type"] == "TYPE_STRING"


async def test_a_hundred_requests_over_one_stream(report: dict[str, Any]) -> None:
    stream = report["stream"]
    assert len(stream) == 100
    for i, item in enumerate(stream):
        if i % 10 == 9:
            assert item == {"error": "Model with requested name is not found"}
        else:
            assert item == {"id": str(i), "shape": [1, 384]}


async def test_the_example_client_runs(model_server: Server) -> None:
    script = REPO_ROOT / "examples" / "grpc_client" / "client.py"
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), "--url", f"127.0.0.1:{model_server.grpc_port}", "--dimensions", "128",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, stderr.decode()
    out = stdout.decode()
    assert "input: input BYTES [-1]" in out
    assert "embeddings: 3 x 128 float32" in out
    assert out.count("stream id") == 3
