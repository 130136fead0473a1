"""With an API key, every route but health refuses a missing or wrong key, over REST and gRPC."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import grpc
import numpy as np
import pytest

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.frontends.grpc.interceptors import FIRST_MESSAGE_WAIT_SECONDS
from ovserve.security.api_key import UNAUTHORIZED_MESSAGE, ApiKey
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.grpc.support import raw_request
from tests.running import running_server
from tests.security.support import KEY

pytestmark = pytest.mark.asyncio(loop_scope="module")

# One concrete request per REST route (method, path, JSON body or None).
REST_ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/v1/config", None),
    ("GET", "/v1/models/relu/versions/1", None),
    ("GET", "/v1/models", None),
    ("GET", "/v1/models/relu", None),
    ("GET", "/v3/models", None),
    ("GET", "/v3/models/relu", None),
    ("GET", "/v3/v1/models", None),
    ("GET", "/v3/v1/models/relu", None),
    ("GET", "/v2", None),
    ("GET", "/v2/models/relu", None),
    ("GET", "/v2/models/relu/ready", None),
    (
        "POST",
        "/v2/models/relu/infer",
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]},
    ),
    ("POST", "/v3/embeddings", {"model": "relu", "input": "hi"}),
    ("POST", "/v1/embeddings", {"model": "relu", "input": "hi"}),
    ("GET", "/openapi.json", None),
    ("GET", "/no/such/route", None),
]
WRONG = [None, "Bearer wrong", "Bearer " + KEY + "x", KEY, "Basic " + KEY, "Bearer "]


async def test_constant_time_check_accepts_only_the_bearer_key() -> None:
    key = ApiKey(KEY)
    assert key.accepts(f"Bearer {KEY}")
    assert key.accepts(f"bearer {KEY}")
    assert not any(key.accepts(value) for value in WRONG)
    assert not key.accepts("Bearer s3cret-kéy")


@pytest.mark.parametrize(("method", "path", "body"), REST_ROUTES)
@pytest.mark.parametrize("authorization", WRONG)
async def test_rest_routes_refuse_missing_or_wrong_key(
    keyed_server: Server, method: str, path: str, body: object, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"http://127.0.0.1:{keyed_server.rest_port}{path}", json=body, headers=headers
        ) as r,
    ):
        assert r.status == 401
        text = await r.text()
    assert UNAUTHORIZED_MESSAGE in text


@pytest.mark.parametrize(("method", "path", "body"), REST_ROUTES)
async def test_rest_routes_serve_the_right_key(
    keyed_server: Server, method: str, path: str, body: object
) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"http://127.0.0.1:{keyed_server.rest_port}{path}", json=body, headers=headers
        ) as r,
    ):
        assert r.status != 401
        if not path.startswith(("/v3/", "/v1/embeddings", "/no/")):
            assert r.status == 200, await r.text()


@pytest.mark.parametrize("path", ["/v2/health/live", "/v2/health/ready"])
async def test_health_routes_stay_open(keyed_server: Server, path: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{keyed_server.rest_port}{path}") as r,
    ):
        assert r.status == 200


def _calls(stub: InferenceStub) -> list[tuple[str, grpc.aio.UnaryUnaryMultiCallable, object]]:
    x = np.ones((1, 4), dtype=np.float32)
    return [
        ("ModelReady", stub.ModelReady, pb.ModelReadyRequest(name="relu")),
        ("ServerMetadata", stub.ServerMetadata, pb.ServerMetadataRequest()),
        ("ModelMetadata", stub.ModelMetadata, pb.ModelMetadataRequest(name="relu")),
        ("ModelInfer", stub.ModelInfer, raw_request("relu", {"x": ("FP32", x)})),
    ]


@pytest.mark.parametrize("authorization", WRONG)
async def test_grpc_methods_refuse_missing_or_wrong_key(
    keyed_server: Server, authorization: str | None
) -> None:
    metadata = (("authorization", authorization),) if authorization is not None else ()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{keyed_server.grpc_port}") as channel:
        stub = InferenceStub(channel)
        for name, call, request in _calls(stub):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await call(request, metadata=metadata)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, name
            assert info.value.details() == UNAUTHORIZED_MESSAGE
        stream = stub.ModelStreamInfer(metadata=metadata)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await _first_reply(stream, _calls(stub)[-1][2])
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # Health stays open.
        assert (await stub.ServerLive(pb.ServerLiveRequest(), metadata=metadata)).live
        assert (await stub.ServerReady(pb.ServerReadyRequest(), metadata=metadata)).ready


async def test_a_refused_stream_reports_unauthenticated_every_time(keyed_server: Server) -> None:
    """The client writes, then reads: grpcio's asyncio client must see our status, not its own
    INTERNAL (grpc/grpc#36066: one call in ~100 when the server ended the stream first)."""
    metadata = (("authorization", "Bearer wrong"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{keyed_server.grpc_port}") as channel:
        stub = InferenceStub(channel)
        request = _calls(stub)[-1][2]
        codes = []
        for _ in range(400):
            stream = stub.ModelStreamInfer(metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await _first_reply(stream, request)
            codes.append(info.value.code())
    assert set(codes) == {grpc.StatusCode.UNAUTHENTICATED}


async def test_a_refused_stream_without_messages_ends_unauthenticated(keyed_server: Server) -> None:
    metadata = (("authorization", "Bearer wrong"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{keyed_server.grpc_port}") as channel:
        stub = InferenceStub(channel)
        closed = stub.ModelStreamInfer(metadata=metadata)
        await closed.done_writing()  # half-closed at once: nothing to wait for
        assert await closed.code() == grpc.StatusCode.UNAUTHENTICATED
        silent = stub.ModelStreamInfer(metadata=metadata)  # open, but never writes
        started = asyncio.get_running_loop().time()
        assert await silent.code() == grpc.StatusCode.UNAUTHENTICATED
        assert await silent.details() == UNAUTHORIZED_MESSAGE
        waited = asyncio.get_running_loop().time() - started
    assert FIRST_MESSAGE_WAIT_SECONDS * 0.9 <= waited < FIRST_MESSAGE_WAIT_SECONDS + 5


async def _first_reply(stream: grpc.aio.StreamStreamCall, request: object) -> object:
    await stream.write(request)
    return await stream.read()


async def test_grpc_methods_serve_the_right_key(keyed_server: Server) -> None:
    metadata = (("authorization", f"Bearer {KEY}"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{keyed_server.grpc_port}") as channel:
        stub = InferenceStub(channel)
        for _, call, request in _calls(stub):
            await call(request, metadata=metadata)
        stream = stub.ModelStreamInfer(metadata=metadata)
        await stream.write(_calls(stub)[-1][2])
        reply = await stream.read()
        await stream.done_writing()
        assert reply.infer_response.model_name == "relu"


async def test_a_refused_grpc_call_is_still_logged_with_its_request_id(
    keyed_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # The refusal is made by the interceptor, past the access log that wraps each served method:
    # it must be wrapped the same way, or refused calls would vanish from the log.
    caplog.set_level("INFO", logger="ovserve.access")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{keyed_server.grpc_port}") as channel:
        stub = InferenceStub(channel)
        call = stub.ModelReady(pb.ModelReadyRequest(name="relu"), metadata=(("x-request-id", "refused-1"),))
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert ("x-request-id", "refused-1") in list(await call.initial_metadata() or ())
    await asyncio.sleep(0.05)  # the line is written after the loop iteration that ended the call
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ovserve.access"]
    refused = [line for line in lines if line.get("request_id") == "refused-1"]
    assert [(line["protocol"], line["method"], line["status"]) for line in refused] == [
        ("grpc", "ModelReady", "UNAUTHENTICATED")
    ]


async def test_with_metrics_on_a_refused_status_call_is_refused_cleanly(
    toy_config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The metrics wrapper records ModelReady / ModelMetadata outcomes from the decoded request;
    # a refusal's request is never decoded: reading it raised inside the servicer, which gRPC
    # logged as an unexpected servicer error.
    async with (
        running_server(toy_config, api_key=KEY, metrics_enable=True) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        stub = InferenceStub(channel)
        for call in (
            stub.ModelReady(pb.ModelReadyRequest(name="relu")),
            stub.ModelMetadata(pb.ModelMetadataRequest(name="relu")),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await call
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert info.value.details() == UNAUTHORIZED_MESSAGE
    assert not [r for r in caplog.records if "raised by servicer method" in r.getMessage()]
