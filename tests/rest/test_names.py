"""Client names (`ovserve.names`): aliases from the flag and from `aliases.json`, and a unique
last path segment, through the openai package (the rule itself: tests/test_names.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import numpy as np
import pytest
import pytest_asyncio
from openai import AsyncOpenAI, NotFoundError

from ovserve.server import Server
from tests.rest.support import GRAPH, TOKENIZER, call, openai_error
from tests.running import running_server
from tests.support.models import copy_workspace, exported_workspace

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

FILE_ALIAS = "text-embedding-3-small"
FLAG_ALIAS = "minilm"
SEGMENT = GRAPH.rsplit("/", 1)[-1]  # all-MiniLM-L6-v2, what MTEB's OpenAI wrapper sends


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def aliased(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    config = copy_workspace(exported_workspace(), tmp_path_factory.mktemp("aliased"))
    (config.parent / "aliases.json").write_text(json.dumps({"model_aliases": {FILE_ALIAS: GRAPH}}))
    async with running_server(config, model_aliases={FLAG_ALIAS: GRAPH}) as started:
        yield started


def client_of(server: Server) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=f"http://127.0.0.1:{server.rest_port}/v3", api_key="unused")


async def test_the_openai_client_embeds_through_every_name(aliased: Server) -> None:
    async with client_of(aliased) as client:
        answers = {
            name: await client.embeddings.create(model=name, input=["hello world"])
            for name in (GRAPH, FILE_ALIAS, FLAG_ALIAS, SEGMENT)
        }
    reference = np.array(answers[GRAPH].data[0].embedding)
    for name, answer in answers.items():
        assert answer.model == GRAPH, name  # the served name, whichever the client used
        assert np.array_equal(np.array(answer.data[0].embedding), reference), name


async def test_models_lists_the_graph_and_its_aliases_only(aliased: Server) -> None:
    async with client_of(aliased) as client:
        listed = [m.id async for m in client.models.list()]
        retrieved = await client.models.retrieve(FILE_ALIAS)
        with pytest.raises(NotFoundError):
            await client.models.retrieve("text-embedding-3-large")
    assert listed == sorted([GRAPH, FILE_ALIAS, FLAG_ALIAS])
    assert TOKENIZER not in listed
    assert retrieved.id == FILE_ALIAS


async def test_an_unknown_name_is_still_404(aliased: Server) -> None:
    async with aiohttp.ClientSession() as session:
        status, body, _ = await call(
            session,
            "POST",
            f"http://127.0.0.1:{aliased.rest_port}/v3/embeddings",
            body={"model": "all-MiniLM", "input": "x"},
        )
    assert (status, openai_error(body)) == (
        404,
        "Mediapipe graph definition with requested name is not found",
    )


async def test_kserve_speaks_served_names_only(aliased: Server) -> None:
    async with aiohttp.ClientSession() as session:
        status, _, _ = await call(
            session, "GET", f"http://127.0.0.1:{aliased.rest_port}/v2/models/{FILE_ALIAS}"
        )
    assert status == 404
