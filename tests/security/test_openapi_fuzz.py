"""`/openapi.json` documents every route, and a schema-driven fuzz run finds no 5xx, no hang
and no dead worker on the real embeddings workspace (graph + its models)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from ovserve.frontends.rest import make_app
from ovserve.frontends.rest.openapi import document
from ovserve.server import Server
from tests.running import running_server
from tests.security.schema_fuzz import FuzzCase, operations
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace
from tests.support.toys import write_toy_workspace

SEED = 20261125
CASES = 2000
CONCURRENCY = 8


async def test_every_route_is_documented(tmp_path: Path) -> None:
    async with running_server(write_toy_workspace(tmp_path), wait=False) as server:
        app = make_app(server.dataplane)
    served = {
        f"{route.method} {route.resource.canonical}"
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {op["x-ovserve-route"] for _, _, op in operations(document())}
    assert served == documented


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def model_server() -> AsyncIterator[Server]:
    async with running_server(exported_workspace()) as started:
        yield started


async def _send(session: aiohttp.ClientSession, base: str, case: FuzzCase) -> tuple[int, bytes]:
    headers = {"Content-Type": case.content_type} if case.content_type else {}
    async with session.request(case.method, base + case.path, data=case.body, headers=headers) as r:
        return r.status, await r.read()


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_fuzz_finds_no_5xx_no_hang_no_dead_worker(model_server: Server) -> None:
    rng = random.Random(SEED)
    names = [
        DEFAULT_GRAPH_NAME,
        f"{DEFAULT_GRAPH_NAME}_tokenizer_model",
        f"{DEFAULT_GRAPH_NAME}_embeddings_model",
    ]
    ops = operations(document())
    cases = [FuzzCase.generate(rng, *rng.choice(ops), names=names) for _ in range(CASES)]
    base = f"http://127.0.0.1:{model_server.rest_port}"
    failures: list[str] = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for start in range(0, len(cases), CONCURRENCY):
            batch = cases[start : start + CONCURRENCY]
            results = await asyncio.gather(*(_send(session, base, c) for c in batch), return_exceptions=True)
            for case, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    failures.append(f"{case}: {result!r}")
                elif result[0] >= 500:
                    failures.append(f"{case}: {result[0]} {result[1][:300]!r}")
        assert failures == [], "\n".join(failures[:20])
        # No dead worker: health and a real embeddings request still answer.
        async with session.get(f"{base}/v2/health/ready") as r:
            assert r.status == 200
        body = {"model": DEFAULT_GRAPH_NAME, "input": ["still alive"]}
        async with session.post(f"{base}/v3/embeddings", json=body) as r:
            assert r.status == 200
            assert len((await r.json())["data"][0]["embedding"]) > 0
