"""Per-request timing (tokenization, queue, inference) and the tokens-per-request limit."""

from __future__ import annotations

import json
import logging

import aiohttp
import grpc
import pytest

from ovserve.config import RequestLimits
from tests.grpc.stub import InferenceStub
from tests.grpc.support import rpc_error, texts_request
from tests.running import running_server
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

PHASES = ("X-Tokenization-Time", "X-Queue-Time", "X-Inference-Time")
# "hello" is one WordPiece token: [CLS] hello×N [SEP] is N + 2 tokens.
LIMIT = 20


def hellos(count: int) -> str:
    return " ".join(["hello"] * count)


@pytest.mark.parametrize("batching", [True, False])
async def test_rest_and_grpc_report_where_the_time_went(
    batching: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ovserve.access")
    async with (
        running_server(exported_workspace(), batching=batching) as server,
        aiohttp.ClientSession() as session,
    ):
        base = f"http://127.0.0.1:{server.rest_port}"
        body = {"model": DEFAULT_GRAPH_NAME, "input": ["one text", "and another"]}
        async with session.post(f"{base}/v3/embeddings", json=body) as r:
            assert r.status == 200
            tokenization, queue, inference = (float(r.headers[h]) for h in PHASES)
        assert tokenization > 0
        assert queue >= 0
        assert inference > 0
        assert tokenization + queue + inference <= float(r.headers["X-Total-Time"]) + 1
        async with session.get(f"{base}/v1/config") as r:  # no graph ran: no phase headers
            assert r.status == 200
            assert not any(h in r.headers for h in PHASES)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            call = InferenceStub(channel).ModelInfer(
                texts_request(DEFAULT_GRAPH_NAME, ["one text"], raw=True)
            )
            await call
            trailing = dict(tuple(await call.trailing_metadata()))
        assert float(str(trailing["x-inference-time"])) > 0
        assert {"x-tokenization-time", "x-queue-time"} <= trailing.keys()
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ovserve.access"]
    embeddings = next(r for r in records if r.get("path") == "/v3/embeddings")
    assert embeddings["inference_ms"] > 0
    assert "inference_ms" not in next(r for r in records if r.get("path") == "/v1/config")
    assert next(r for r in records if r["protocol"] == "grpc")["inference_ms"] > 0


async def test_a_request_over_the_token_limit_is_refused_before_inference() -> None:
    limits = RequestLimits(max_tokens_per_request=LIMIT)
    async with (
        running_server(exported_workspace(), limits=limits) as server,
        aiohttp.ClientSession() as session,
    ):
        url = f"http://127.0.0.1:{server.rest_port}/v3/embeddings"
        async with session.post(
            url, json={"model": DEFAULT_GRAPH_NAME, "input": [hellos(9), hellos(9)]}
        ) as r:
            assert r.status == 400
            message = (await r.json())["error"]["message"]
            assert message.endswith(
                f"request has 22 tokens, more than the limit of {LIMIT} per request "
                "(--max_tokens_per_request); split it into smaller requests"
            ), message
            assert "X-Inference-Time" in r.headers
            assert float(r.headers["X-Inference-Time"]) == 0  # refused before the model ran
        # Token-id input counts the ids sent.
        async with session.post(
            url, json={"model": DEFAULT_GRAPH_NAME, "input": [list(range(1000, 1021))]}
        ) as r:
            assert r.status == 400
            assert "request has 21 tokens" in (await r.json())["error"]["message"]
        async with session.post(
            url, json={"model": DEFAULT_GRAPH_NAME, "input": [hellos(9), hellos(7)]}
        ) as r:
            assert r.status == 200  # 11 + 9 tokens: exactly the limit
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            request = texts_request(DEFAULT_GRAPH_NAME, [hellos(30)], raw=True)
            error = await rpc_error(InferenceStub(channel).ModelInfer(request))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "request has 32 tokens, more than the limit of 20" in (error.details() or "")
