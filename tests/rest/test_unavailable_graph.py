"""A graph that failed to load: OVMS answers 500 `Mediapipe is not loaded yet`; ovserve 503."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from tests.rest.support import GRAPH, call, openai_error
from tests.running import running_server
from tests.support.models import copy_workspace, exported_workspace, graph_dir

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def broken_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    config = copy_workspace(exported_workspace(), tmp_path_factory.mktemp("broken") / "ws")
    graph_file = graph_dir(config) / "graph.pbtxt"
    graph_file.write_text(graph_file.read_text().replace("EmbeddingsCalculator", "NoSuchCalculator", 1))
    async with running_server(config) as started:
        yield f"http://127.0.0.1:{started.rest_port}"


async def test_embeddings_on_a_failed_graph_is_503(session: aiohttp.ClientSession, broken_url: str) -> None:
    status, body, _ = await call(
        session, "POST", f"{broken_url}/v3/embeddings", body={"model": GRAPH, "input": "x"}
    )
    assert (status, openai_error(body)) == (503, "Mediapipe is not loaded yet")


async def test_a_failed_graph_is_not_listed_and_not_ready(
    session: aiohttp.ClientSession, broken_url: str
) -> None:
    status, body, _ = await call(session, "GET", f"{broken_url}/v3/models")
    assert status == 200
    # Its own models loaded, but they are parts of the graph, not for a client to pick.
    assert [m["id"] for m in body["data"]] == []
    status, body, _ = await call(session, "GET", f"{broken_url}/v2/models/{GRAPH}/ready")
    assert (status, body) == (404, {"error": "Model with requested version is not loaded yet"})
    status, body, _ = await call(session, "GET", f"{broken_url}/v3/models/{GRAPH}")
    assert (status, openai_error(body)) == (404, "Model not found")
