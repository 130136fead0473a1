"""OVMS CORS flags: headers on every answer (errors too) and `OPTIONS` preflight 200 without a key."""

from __future__ import annotations

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from ovserve.server import Server

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _assert_cors(headers: CIMultiDictProxy[str]) -> None:
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert headers["Access-Control-Allow-Headers"] == "*"
    assert headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize(
    "path", ["/v3/embeddings", "/v2/models/relu/infer", "/anything/at/all", "/v2/health/live"]
)
async def test_preflight_is_200_empty_without_key(keyed_server: Server, path: str) -> None:
    headers = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    async with (
        aiohttp.ClientSession() as session,
        session.options(f"http://127.0.0.1:{keyed_server.rest_port}{path}", headers=headers) as r,
    ):
        assert r.status == 200
        assert await r.read() == b""
        _assert_cors(r.headers)


@pytest.mark.parametrize(("path", "status"), [("/v2/health/live", 200), ("/v2", 401)])
async def test_every_answer_carries_cors_headers(keyed_server: Server, path: str, status: int) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{keyed_server.rest_port}{path}") as r,
    ):
        assert r.status == status
        _assert_cors(r.headers)


async def test_default_cors_is_star_without_credentials(toy_config: object) -> None:
    from pathlib import Path

    from tests.running import running_server

    assert isinstance(toy_config, Path)
    async with (
        running_server(toy_config) as server,
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.rest_port}/v2/health/live") as r,
    ):
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert r.headers["Access-Control-Allow-Methods"] == "*"
        assert "Access-Control-Allow-Credentials" not in r.headers
