"""gRPC mode against a real grpc.aio KServe v2 ModelInfer handler started in the test."""

from __future__ import annotations

import socket
import struct
from collections.abc import AsyncIterator

import grpc
import numpy as np
import pytest
import pytest_asyncio

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.bench.cli import main
from ovserve.bench.load import LoadConfig, run_load
from ovserve.bench.report import summarize


def _texts(request: pb.ModelInferRequest) -> list[bytes]:
    raw, texts = request.raw_input_contents[0], []
    while raw:
        (size,) = struct.unpack_from("<I", raw)
        texts.append(raw[4 : 4 + size])
        raw = raw[4 + size :]
    return texts


async def model_infer(
    request: pb.ModelInferRequest, context: grpc.aio.ServicerContext
) -> pb.ModelInferResponse:
    assert request.inputs[0].name == "input"
    assert request.inputs[0].datatype == "BYTES"
    texts = _texts(request)
    if any(b"FAIL" in t for t in texts):
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "injected failure")
    reply = pb.ModelInferResponse(model_name=request.model_name)
    reply.outputs.add(name="output", datatype="FP32", shape=[len(texts), 2])
    reply.raw_output_contents.append(np.ones((len(texts), 2), dtype=np.float32).tobytes())
    reply.parameters["prompt_tokens"].int64_param = sum(len(t.split()) + 2 for t in texts)
    return reply


@pytest_asyncio.fixture
async def grpc_url() -> AsyncIterator[str]:
    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(
        model_infer,
        request_deserializer=pb.ModelInferRequest.FromString,
        response_serializer=pb.ModelInferResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("inference.GRPCInferenceService", {"ModelInfer": handler})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


async def test_grpc_mode_counts_tokens_and_failures(grpc_url: str) -> None:
    groups = [["one two three", "four"], ["FAIL here"], ["five six"]]
    result = await run_load(groups, LoadConfig(grpc_url=grpc_url, model="m", concurrency=2))
    summary = summarize(result)
    assert (summary.requests, summary.succeeded, summary.documents_ok) == (3, 2, 3)
    assert summary.tokens == (3 + 2) + (1 + 2) + (2 + 2)
    assert summary.errors == {"gRPC INVALID_ARGUMENT: injected failure": 1}


def test_grpc_mode_without_a_server_reports_unavailable(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(["--grpc_url", f"127.0.0.1:{port}", "--limit", "2", "--timeout", "5", "--no_progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Success rate: 0.0%. (0/2)" in out
    assert "gRPC UNAVAILABLE" in out
