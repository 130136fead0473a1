"""Triton's model-configuration extension over HTTP, read by `tritonclient.http.get_model_config`
(what perf_analyzer asks first), for the embeddings graph and its plain models."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from ovserve.server import Server
from tests.rest.support import EMBEDDINGS, GRAPH, TOKENIZER

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


def read_config(port: int, name: str, version: str = "") -> Any:
    client = httpclient.InferenceServerClient(f"127.0.0.1:{port}")
    try:
        return client.get_model_config(name, version)
    finally:
        client.close()


async def config_of(server: Server, name: str, version: str = "") -> Any:
    assert server.rest_port is not None
    # tritonclient blocks: off the loop that serves the in-process server.
    return await asyncio.to_thread(read_config, server.rest_port, name, version)


async def test_graph_config_has_the_infer_contract(server: Server) -> None:
    config = await config_of(server, GRAPH)
    assert config["name"] == GRAPH
    assert config["max_batch_size"] == 0
    assert config["input"] == [{"name": "input", "data_type": "TYPE_STRING", "dims": [-1]}]
    assert config["output"] == [{"name": "output", "data_type": "TYPE_FP32", "dims": [-1, 384]}]
    assert await config_of(server, GRAPH, "1") == config


async def test_plain_model_config_follows_its_metadata(server: Server) -> None:
    config = await config_of(server, EMBEDDINGS)
    names = {t["name"] for t in config["input"]}
    assert "input_ids" in names
    assert all(t["data_type"].startswith("TYPE_") and t["dims"] for t in config["input"] + config["output"])
    tokenizer = await config_of(server, TOKENIZER)
    assert tokenizer["input"][0]["data_type"] == "TYPE_STRING"


async def test_unknown_name_or_version_is_an_error(server: Server) -> None:
    with pytest.raises(InferenceServerException, match="not found"):
        await config_of(server, "nope")
    with pytest.raises(InferenceServerException, match="version is not found"):
        await config_of(server, GRAPH, "2")
