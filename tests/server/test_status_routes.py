"""`/v1/config` and the health routes against a real server with tiny real OpenVINO models."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from tests.running import running_server
from tests.toy_models import write_relu_model


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    write_relu_model(tmp_path / "relu" / "1")
    write_relu_model(tmp_path / "relu" / "2")
    write_relu_model(tmp_path / "latest" / "1")
    write_relu_model(tmp_path / "latest" / "3")
    (tmp_path / "broken" / "1").mkdir(parents=True)
    (tmp_path / "broken" / "1" / "model.xml").write_text("<not a model")
    config = {
        "model_config_list": [
            {"config": {"name": "relu", "base_path": "relu", "model_version_policy": {"all": {}}}},
            {"config": {"name": "latest", "base_path": "latest"}},
            {"config": {"name": "broken", "base_path": "broken"}},
        ]
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


async def get_json(session: aiohttp.ClientSession, url: str) -> tuple[int, object]:
    async with session.get(url) as response:
        return response.status, await response.json()


async def test_v1_config_reports_every_version_with_ovms_shape(workspace: Path) -> None:
    async with running_server(workspace) as server, aiohttp.ClientSession() as session:
        status, body = await get_json(session, f"http://127.0.0.1:{server.rest_port}/v1/config")
    assert status == 200
    assert isinstance(body, dict)
    ok = {"error_code": "OK", "error_message": "OK"}
    assert body["relu"] == {
        "model_version_status": [
            {"version": "1", "state": "AVAILABLE", "status": ok},
            {"version": "2", "state": "AVAILABLE", "status": ok},
        ]
    }
    assert body["latest"] == {"model_version_status": [{"version": "3", "state": "AVAILABLE", "status": ok}]}
    (broken,) = body["broken"]["model_version_status"]
    assert broken["version"] == "1"
    assert broken["state"] == "LOADING"
    assert broken["status"]["error_code"] == "UNKNOWN"
    assert "version 1" in broken["status"]["error_details"]


async def test_health_routes(workspace: Path) -> None:
    async with running_server(workspace) as server, aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{server.rest_port}"
        async with session.get(f"{base}/v2/health/live") as response:
            assert response.status == 200
        async with session.get(f"{base}/v2/health/ready") as response:
            assert response.status == 200


async def test_ready_is_503_until_the_workspace_is_loaded(workspace: Path) -> None:
    async with running_server(workspace) as server, aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{server.rest_port}"
        server.repository.ready = False  # the state during start-up, pinned so the check is deterministic
        async with session.get(f"{base}/v2/health/ready") as response:
            assert response.status == 503
            assert await response.json() == {"error": "Server is not ready"}
        server.repository.ready = True
        async with session.get(f"{base}/v2/health/ready") as response:
            assert response.status == 200


async def test_unknown_route_and_wrong_method_answer_json(workspace: Path) -> None:
    async with running_server(workspace) as server, aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{server.rest_port}"
        async with session.get(f"{base}/no/such/route") as response:
            assert response.status == 404
            assert response.content_type == "application/json"
            assert await response.json() == {"error": "Requested REST resource not found"}
        async with session.post(f"{base}/v1/config") as response:
            assert response.status == 405
            assert "GET" in response.headers["Allow"]
            assert "error" in await response.json()
