"""A workspace written by `ovserve export embeddings` serves: the seed's `/v1/config` step."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import aiohttp
import pytest

from tests.running import running_server
from tests.support.models import DEFAULT_GRAPH_NAME, copy_workspace, exported_workspace, graph_dir

pytestmark = pytest.mark.slow

TOKENIZER = f"{DEFAULT_GRAPH_NAME}_tokenizer_model"
EMBEDDINGS = f"{DEFAULT_GRAPH_NAME}_embeddings_model"


async def fetch_config(config: Path) -> dict[str, dict[str, list[dict[str, object]]]]:
    async with (
        running_server(config) as server,
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.rest_port}/v1/config") as response,
    ):
        assert response.status == 200
        body: dict[str, dict[str, list[dict[str, object]]]] = await response.json()
        return body


def versions(body: dict[str, dict[str, list[dict[str, object]]]], name: str) -> list[tuple[object, object]]:
    return [(s["version"], s["state"]) for s in body[name]["model_version_status"]]


async def test_seed_workspace_lists_the_graph_and_its_two_models_available() -> None:
    body = await fetch_config(exported_workspace())
    assert set(body) == {DEFAULT_GRAPH_NAME, TOKENIZER, EMBEDDINGS}
    for name in body:
        assert versions(body, name) == [("1", "AVAILABLE")], body[name]


def add_version_2(config: Path) -> Path:
    for model in ("tokenizer", "embeddings"):
        shutil.copytree(graph_dir(config) / model / "1", graph_dir(config) / model / "2")
    return config


async def test_a_second_version_is_served_by_the_default_latest_policy(tmp_path: Path) -> None:
    config = add_version_2(copy_workspace(exported_workspace(), tmp_path / "ws"))
    body = await fetch_config(config)
    assert versions(body, EMBEDDINGS) == [("2", "AVAILABLE")]
    assert versions(body, TOKENIZER) == [("2", "AVAILABLE")]
    assert versions(body, DEFAULT_GRAPH_NAME) == [("1", "AVAILABLE")]


async def test_policy_all_serves_both_versions(tmp_path: Path) -> None:
    config = add_version_2(copy_workspace(exported_workspace(), tmp_path / "ws"))
    subconfig_path = graph_dir(config) / "subconfig.json"
    subconfig = json.loads(subconfig_path.read_text())
    for item in subconfig["model_config_list"]:
        item["config"]["model_version_policy"] = {"all": {}}
    subconfig_path.write_text(json.dumps(subconfig))
    body = await fetch_config(config)
    assert versions(body, EMBEDDINGS) == [("1", "AVAILABLE"), ("2", "AVAILABLE")]
    assert versions(body, TOKENIZER) == [("1", "AVAILABLE"), ("2", "AVAILABLE")]


async def test_a_broken_graph_is_reported_and_the_rest_keeps_serving(tmp_path: Path) -> None:
    config = copy_workspace(exported_workspace(), tmp_path / "ws")
    graph_file = graph_dir(config) / "graph.pbtxt"
    graph_file.write_text(graph_file.read_text().replace("EmbeddingsCalculator", "NoSuchCalculator", 1))
    body = await fetch_config(config)
    (graph_status,) = body[DEFAULT_GRAPH_NAME]["model_version_status"]
    assert graph_status["state"] == "LOADING"
    status = graph_status["status"]
    assert isinstance(status, dict)
    assert status["error_code"] == "FAILED_PRECONDITION"
    assert "NoSuchCalculator" in status["error_details"]
    assert versions(body, EMBEDDINGS) == [("1", "AVAILABLE")]
