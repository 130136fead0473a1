"""The flat (EmbeddingsCalculatorOV) export serves the same OpenAI API as the versioned one.

Costs one more export when the cache is cold (~15 s), so it is checked with a few calls only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import numpy as np
import pytest
import pytest_asyncio
from openai import AsyncOpenAI

from ovserve.server import Server
from tests.rest.support import GRAPH, call, openai_error
from tests.running import running_server
from tests.support.models import exported_workspace

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

TEXTS = ["That is a happy person", "That is a happy very person"]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def flat_server() -> AsyncIterator[Server]:
    async with running_server(exported_workspace(layout="flat")) as started:
        yield started


async def test_flat_graph_embeds_like_the_versioned_one(
    flat_server: Server, base_url: str, session: aiohttp.ClientSession
) -> None:
    async with (
        AsyncOpenAI(base_url=f"http://127.0.0.1:{flat_server.rest_port}/v3", api_key="unused") as flat,
        AsyncOpenAI(base_url=f"{base_url}/v3", api_key="unused") as versioned,
    ):
        got = await flat.embeddings.create(input=TEXTS, model=GRAPH)
        reference = await versioned.embeddings.create(input=TEXTS, model=GRAPH)
    assert got.usage.prompt_tokens == reference.usage.prompt_tokens
    cosine = np.sum(
        np.array([d.embedding for d in got.data]) * np.array([d.embedding for d in reference.data]), axis=1
    )
    assert np.all(cosine > 0.99), cosine


async def test_flat_graph_errors_carry_the_calculator_message(
    flat_server: Server, session: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{flat_server.rest_port}/v3/embeddings"
    status, body, _ = await call(session, "POST", url, body={"model": GRAPH, "input": []})
    assert status == 400
    assert openai_error(body).endswith("failed: input array should not be empty")
