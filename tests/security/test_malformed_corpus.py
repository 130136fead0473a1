"""Every malformed request of the corpus gets its 4xx / gRPC code and a clear message, and the
server answers normally afterwards (same server, same module)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest
import pytest_asyncio

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.running import running_server
from tests.security.corpus import CORPUS_LIMITS, G
from tests.security.grpc_corpus import GRPC_CASES, GrpcCase
from tests.security.rest_corpus import REST_CASES, RestCase
from tests.support.models import exported_workspace

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def corpus_server() -> AsyncIterator[Server]:
    async with running_server(exported_workspace(), limits=CORPUS_LIMITS) as started:
        yield started


def _payload(body: bytes | None) -> bytes | io.BytesIO | None:
    # aiohttp warns (an error here) when a large body is passed as bytes.
    return io.BytesIO(body) if body is not None and len(body) > 1 << 20 else body


def _message(raw: bytes) -> str:
    """The error message of either body shape (OpenAI or KServe)."""
    body = json.loads(raw)
    error = body["error"]
    return str(error["message"] if isinstance(error, dict) else error)


async def test_corpus_is_large_enough() -> None:
    assert len(REST_CASES) + len(GRPC_CASES) >= 50
    assert len({c.id for c in REST_CASES}) == len(REST_CASES)
    assert len({c.id for c in GRPC_CASES}) == len(GRPC_CASES)


@pytest.mark.parametrize("case", REST_CASES, ids=[c.id for c in REST_CASES])
async def test_rest_case(corpus_server: Server, case: RestCase) -> None:
    url = f"http://127.0.0.1:{corpus_server.rest_port}{case.path}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(case.method, url, data=_payload(case.body), headers=case.headers) as r,
    ):
        raw = await r.read()
        assert (r.status, case.message in _message(raw)) == (case.status, True), raw[:400]
        assert 400 <= r.status < 500
        assert r.content_type == "application/json"


@pytest.mark.parametrize("case", GRPC_CASES, ids=[c.id for c in GRPC_CASES])
async def test_grpc_case(corpus_server: Server, case: GrpcCase) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{corpus_server.grpc_port}") as channel:
        call = getattr(InferenceStub(channel), case.method)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call(case.request())
    error = info.value
    assert (error.code(), case.message in (error.details() or "")) == (case.code, True), error.details()
    assert error.details()


async def test_undecodable_grpc_message(corpus_server: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{corpus_server.grpc_port}") as channel:
        call = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call(b"\xff\xff\xff\xff garbage")
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert info.value.details() == "request is not a valid inference.ModelInferRequest message"
        raw_stream = channel.stream_stream("/inference.GRPCInferenceService/ModelStreamInfer")()
        await raw_stream.write(b"\xff\xff garbage")
        reply = pb.ModelStreamInferResponse.FromString(await raw_stream.read())
        await raw_stream.done_writing()
        assert reply.error_message == "request is not a valid inference.ModelInferRequest message"
        unknown = channel.unary_unary("/inference.GRPCInferenceService/NoSuchMethod")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await unknown(b"")
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_server_answers_normally_after_the_corpus(corpus_server: Server) -> None:
    base = f"http://127.0.0.1:{corpus_server.rest_port}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/v2/health/ready") as r:
            assert r.status == 200
        async with session.post(f"{base}/v3/embeddings", json={"model": G, "input": ["fine", "again"]}) as r:
            assert r.status == 200
            assert len((await r.json())["data"]) == 2
    assert corpus_server.guard.inflight(G) == 0
