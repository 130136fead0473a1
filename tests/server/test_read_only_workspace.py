"""The server only reads the workspace, so it can run from a read-only mount."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from tests.running import running_server
from tests.toy_models import write_relu_model


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under `root` with its size and modification time."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))
    }


async def test_serving_leaves_the_workspace_untouched(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    write_relu_model(workspace / "relu" / "1")
    config = workspace / "config.json"
    config.write_text(json.dumps({"model_config_list": [{"config": {"name": "relu", "base_path": "relu"}}]}))
    before = snapshot(workspace)
    async with (
        running_server(config) as server,
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.rest_port}/v1/config") as response,
    ):
        assert response.status == 200
    assert snapshot(workspace) == before
