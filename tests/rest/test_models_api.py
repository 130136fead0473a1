"""`GET /v3/models[/{name}]` under every prefix, with raw aiohttp and the openai package."""

from __future__ import annotations

import time

import aiohttp
import pytest
from openai import AsyncOpenAI, NotFoundError

from tests.rest.support import EMBEDDINGS, GRAPH, TOKENIZER, call, openai_error

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

PREFIXES = ["/v3", "/v3/v1", "/v1"]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_list_has_the_graph_not_its_models(
    session: aiohttp.ClientSession, base_url: str, prefix: str
) -> None:
    status, body, _ = await call(session, "GET", f"{base_url}{prefix}/models")
    assert status == 200
    assert list(body) == ["data", "object"]
    assert body["object"] == "list"
    # The graph's tokenizer and embeddings servables stay in /v1/config and KServe.
    assert [m["id"] for m in body["data"]] == [GRAPH]
    for model in body["data"]:
        assert list(model) == ["id", "object", "created", "owned_by"]
        assert model["object"] == "model"
        assert model["owned_by"] == "OVMS"
        assert abs(model["created"] - time.time()) < 60


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_retrieve_by_name_with_slashes(
    session: aiohttp.ClientSession, base_url: str, prefix: str
) -> None:
    status, body, _ = await call(session, "GET", f"{base_url}{prefix}/models/{GRAPH}")
    assert status == 200
    assert body["id"] == GRAPH


async def test_unknown_model_is_404_not_ovms_500(session: aiohttp.ClientSession, base_url: str) -> None:
    status, body, _ = await call(session, "GET", f"{base_url}/v3/models/nope")
    assert (status, openai_error(body)) == (404, "Model not found")


async def test_the_openai_package_lists_and_retrieves(base_url: str) -> None:
    async with AsyncOpenAI(base_url=f"{base_url}/v3", api_key="unused") as client:
        listed = [m.id async for m in client.models.list()]
        model = await client.models.retrieve(GRAPH)
        with pytest.raises(NotFoundError):
            await client.models.retrieve("nope")
    assert GRAPH in listed
    assert model.id == GRAPH


async def test_tfs_status_of_one_version(session: aiohttp.ClientSession, base_url: str) -> None:
    status, body, _ = await call(session, "GET", f"{base_url}/v1/models/{EMBEDDINGS}/versions/1")
    assert status == 200
    assert body == {
        "model_version_status": [
            {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": "OK"}}
        ]
    }
    status, body, _ = await call(session, "GET", f"{base_url}/v1/models/{EMBEDDINGS}/versions/3")
    assert (status, body) == (404, {"error": "Model with requested version is not found"})
    status, body, _ = await call(session, "GET", f"{base_url}/v1/models/nope/versions/1")
    assert (status, body) == (404, {"error": "Model with requested name is not found"})


async def test_a_graphs_own_model_is_unlisted_but_still_retrievable(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    """OVMS answers for a graph's servables; only the listing (a model picker) leaves them out."""
    status, body, _ = await call(session, "GET", f"{base_url}/v3/models/{TOKENIZER}")
    assert (status, body["id"]) == (200, TOKENIZER)
