"""A graph whose session calculators name config.json models follows their versions too."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from tests.lifecycle.support import POLL_SECONDS, eventually, get_statuses, states, watched_server
from tests.support.models import DEFAULT_GRAPH_NAME, copy_workspace, exported_workspace, graph_dir

pytestmark = pytest.mark.slow

EMBEDDINGS = f"{DEFAULT_GRAPH_NAME}_embeddings_model"


def top_level_workspace(root: Path) -> Path:
    """The seed workspace with its subconfig models moved into config.json (graph unchanged)."""
    config = copy_workspace(exported_workspace("int8"), root)
    graph = graph_dir(config)
    subconfig = graph / "subconfig.json"
    models = json.loads(subconfig.read_text())["model_config_list"]
    for entry in models:
        entry["config"]["base_path"] = str(graph / entry["config"]["base_path"])
    subconfig.unlink()
    graphs = [{"name": DEFAULT_GRAPH_NAME, "base_path": str(graph)}]
    config.write_text(json.dumps({"model_config_list": models, "mediapipe_config_list": graphs}))
    return config


async def embed(session: aiohttp.ClientSession, port: int | None) -> np.ndarray:
    body = {"model": DEFAULT_GRAPH_NAME, "input": "The quick brown fox"}
    async with session.post(f"http://127.0.0.1:{port}/v3/embeddings", json=body) as response:
        assert response.status == 200, await response.text()
        return np.asarray((await response.json())["data"][0]["embedding"], dtype=np.float32)


async def test_a_new_version_of_a_config_json_model_reaches_the_graph(tmp_path: Path) -> None:
    config = top_level_workspace(tmp_path / "ws")
    fp32 = graph_dir(exported_workspace("fp32")) / "embeddings" / "1"
    async with watched_server(config) as server, aiohttp.ClientSession() as session:
        port = server.rest_port
        v1 = await embed(session, port)
        shutil.copytree(fp32, graph_dir(config) / "embeddings" / "2")

        async def switched() -> bool:
            return float(np.max(np.abs(await embed(session, port) - v1))) > 1e-3

        await eventually(switched, within=2 * POLL_SECONDS + 5.0)
        body = await get_statuses(session, port)
        assert states(body, EMBEDDINGS) == {"1": "END", "2": "AVAILABLE"}
        assert states(body, DEFAULT_GRAPH_NAME) == {"1": "AVAILABLE"}


async def test_a_version_a_failed_graph_reload_still_serves_on_is_not_shown_end(tmp_path: Path) -> None:
    # The graph file breaks, then a new model version arrives: the graph cannot reload, so its
    # previous instance keeps answering on version 1. Version 1 must then show UNLOADING (in
    # use), not END, until the graph file is fixed and the graph moves to version 2.
    config = top_level_workspace(tmp_path / "ws")
    graph_file = graph_dir(config) / "graph.pbtxt"
    good = graph_file.read_text()
    fp32 = graph_dir(exported_workspace("fp32")) / "embeddings" / "1"
    async with watched_server(config) as server, aiohttp.ClientSession() as session:
        port = server.rest_port
        v1 = await embed(session, port)

        async def graph_failed() -> bool:
            status = (await get_statuses(session, port))[DEFAULT_GRAPH_NAME]["model_version_status"][0]
            return bool(status["status"]["error_message"] != "OK")

        graph_file.write_text("node { calculator: ")
        await eventually(graph_failed, within=2 * POLL_SECONDS + 5.0)
        shutil.copytree(fp32, graph_dir(config) / "embeddings" / "2")

        held = {"1": "UNLOADING", "2": "AVAILABLE"}
        await eventually(lambda: _states_now(session, port, held), within=2 * POLL_SECONDS + 5.0)
        await asyncio.sleep(2 * POLL_SECONDS)  # later passes keep it so
        assert await _states_now(session, port, held)
        np.testing.assert_array_equal(await embed(session, port), v1)  # still the old instance

        graph_file.write_text(good)

        async def moved_on() -> bool:
            return float(np.max(np.abs(await embed(session, port) - v1))) > 1e-3

        await eventually(moved_on, within=2 * POLL_SECONDS + 5.0)
        await eventually(
            lambda: _states_now(session, port, {"1": "END", "2": "AVAILABLE"}), within=2 * POLL_SECONDS + 5.0
        )


async def _states_now(session: aiohttp.ClientSession, port: int | None, expected: dict[str, str]) -> bool:
    return states(await get_statuses(session, port), EMBEDDINGS) == expected
