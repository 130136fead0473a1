"""Seeded random ModelInferRequest messages (names, datatypes, shapes, typed and raw contents,
parameters, versions, outputs) over gRPC: every call ends OK or with a client-error code and a
message, never INTERNAL/UNKNOWN, never hangs, and the server still embeds afterwards."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.grpc.support import bytes_raw, output_array, texts_request
from tests.running import running_server
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

SEED = 909
CASES = 1500
CONCURRENCY = 8
NAMES = [
    DEFAULT_GRAPH_NAME,
    f"{DEFAULT_GRAPH_NAME}_embeddings_model",
    f"{DEFAULT_GRAPH_NAME}_tokenizer_model",
    "nope",
    "",
]
INPUTS = ["input", "input_ids", "attention_mask", "token_type_ids", "x", ""]
DATATYPES = ["BYTES", "INT64", "INT32", "FP32", "FP16", "BOOL", "UINT8", "FP64", "XX", ""]
CLIENT_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNIMPLEMENTED,
}


def _request(rng: random.Random) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(
        model_name=rng.choice(NAMES),
        model_version=rng.choice(["", "", "1", "0", "99", "-1", "abc", "1" * 30]),
        id=rng.choice(["", "id-1", "\u540d" * 10]),
    )
    raw = rng.random() < 0.6
    for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
        shape = [rng.choice([0, 1, 2, 3, -1, 2**40]) for _ in range(rng.choice([0, 1, 2, 3]))]
        tensor = request.inputs.add(name=rng.choice(INPUTS), datatype=rng.choice(DATATYPES), shape=shape)
        if raw:
            size = rng.choice([0, 1, 3, 4, 8, 16, 64])
            content = bytes_raw([b"text", "\u540d".encode()]) if rng.random() < 0.3 else rng.randbytes(size)
            request.raw_input_contents.append(content)
        else:
            kind = rng.choice(
                ["bytes_contents", "int64_contents", "int_contents", "fp32_contents", "bool_contents"]
            )
            table: dict[str, list[object]] = {
                "bytes_contents": [b"hello", b"\xff\xfe", b""],
                "int64_contents": [1, -1, 2**62],
                "int_contents": [0, 7, -(2**31)],
                "fp32_contents": [0.5, float("inf"), float("nan")],
                "bool_contents": [True, False],
            }
            values = table[kind]
            getattr(tensor.contents, kind).extend(rng.choices(values, k=rng.choice([0, 1, 2, 4])))
    if rng.random() < 0.2 and request.raw_input_contents:
        request.raw_input_contents.append(b"extra")
    for _ in range(rng.choice([0, 0, 1, 2])):
        request.outputs.add(name=rng.choice(["output", "nope", "last_hidden_state", ""]))
    for key in rng.sample(["dimensions", "normalize", "truncate", "other"], k=rng.choice([0, 0, 1, 2])):
        parameter = request.parameters[key]
        choice = rng.choice(["int64_param", "bool_param", "string_param"])
        value = {"int64_param": rng.choice([0, 1, 8, -3, 10**9]), "bool_param": True, "string_param": "x"}[
            choice
        ]
        setattr(parameter, choice, value)
    return request


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def model_server() -> AsyncIterator[Server]:
    async with running_server(exported_workspace()) as started:
        yield started


async def test_grpc_fuzz_finds_no_internal_error_and_no_hang(model_server: Server) -> None:
    rng = random.Random(SEED)
    requests = [_request(rng) for _ in range(CASES)]
    failures: list[str] = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{model_server.grpc_port}") as channel:
        stub = InferenceStub(channel)
        for start in range(0, CASES, CONCURRENCY):
            batch = requests[start : start + CONCURRENCY]
            results = await asyncio.gather(
                *(stub.ModelInfer(r, timeout=30) for r in batch), return_exceptions=True
            )
            for request, result in zip(batch, results, strict=True):
                if isinstance(result, grpc.aio.AioRpcError):
                    if result.code() not in CLIENT_CODES or not result.details():
                        failures.append(f"{result.code()} {result.details()!r} for {request}")
                elif isinstance(result, BaseException):
                    failures.append(f"{result!r} for {request}")
        assert failures == [], "\n".join(failures[:10])
        response = await stub.ModelInfer(texts_request(DEFAULT_GRAPH_NAME, ["still", "alive"], raw=True))
        assert output_array(response, "output").shape[0] == 2
