"""`POST /v1/config/reload` with the watcher off: codes, bodies, retirement."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from tests.grpc.support import EMBEDDINGS, GRAPH
from tests.lifecycle.support import (
    get_statuses,
    infer_offset,
    states,
    watched_server,
    write_config,
    write_offset_model,
)
from tests.support.models import copy_workspace, exported_workspace, graph_dir

pytestmark = pytest.mark.slow

CONFIG_FAILED = "Reloading config file failed. Check server logs for more info."
CONFIG_MISSING = "Config file not found or cannot open."


async def reload(session: aiohttp.ClientSession, port: int | None) -> tuple[int, str]:
    async with session.post(f"http://127.0.0.1:{port}/v1/config/reload") as response:
        return response.status, await response.text()


async def test_reload_codes_bodies_and_retirement(tmp_path: Path) -> None:
    write_offset_model(tmp_path / "a" / "1", 1.0)
    config = tmp_path / "config.json"
    write_config(config, {"a": {}})
    async with watched_server(config, poll=0) as server, aiohttp.ClientSession() as session:
        port = server.rest_port
        code, text = await reload(session, port)
        assert code == 200  # nothing changed: OK_NOT_RELOADED
        assert json.loads(text) == await get_statuses(session, port)

        # A new version directory: loaded by the call itself, 201, the old one ended.
        write_offset_model(tmp_path / "a" / "2", 2.0)
        code, text = await reload(session, port)
        assert code == 201
        assert states(json.loads(text), "a") == {"1": "END", "2": "AVAILABLE"}

        # An invalid file changes nothing and the endpoint says why.
        valid = config.read_text()
        config.write_text('{"model_config_list": [')
        assert await reload(session, port) == (412, '{\n\t"error": "' + CONFIG_FAILED + '"\n}')
        write_config(config, {"a": {"unknown_key": 1}, "b": {"nireq": "many"}})
        code, _ = await reload(session, port)
        assert code == 200  # bad entries only: the served model keeps serving, "b" is rejected
        assert await infer_offset(session, port, "a") == (200, "2", 2.0)
        config.unlink()
        assert await reload(session, port) == (500, '{\n\t"error": "' + CONFIG_MISSING + '"\n}')
        assert await infer_offset(session, port, "a") == (200, "2", 2.0)
        config.write_text(valid)

        # Model "a" removed, "c" added: "a" is retired, "c" serves, without a restart.
        write_offset_model(tmp_path / "c" / "1", 5.0)
        write_config(config, {"c": {}})
        code, text = await reload(session, port)
        assert code == 201
        body = json.loads(text)
        assert states(body, "a") == {"1": "END", "2": "END"}
        assert states(body, "c") == {"1": "AVAILABLE"}
        assert (await infer_offset(session, port, "a"))[:2] == (
            404,
            "Model with requested version is retired",
        )
        assert await infer_offset(session, port, "c") == (200, "1", 5.0)

        # Re-added: it serves again.
        write_config(config, {"a": {}, "c": {}})
        assert (await reload(session, port))[0] == 201
        assert await infer_offset(session, port, "a") == (200, "2", 2.0)


async def test_a_subconfig_change_recompiles_the_model_and_reloads_its_graph(tmp_path: Path) -> None:
    config = copy_workspace(exported_workspace(), tmp_path / "ws")
    subconfig = graph_dir(config) / "subconfig.json"
    async with watched_server(config, poll=0) as server, aiohttp.ClientSession() as session:
        port = server.rest_port
        graph_before = server.repository.graph(GRAPH)
        model_before = server.repository.models.resolve(EMBEDDINGS)
        subconfig.write_text(subconfig.read_text().replace('"NUM_STREAMS": "1"', '"NUM_STREAMS": "2"'))
        code, text = await reload(session, port)
        assert code == 201
        assert states(json.loads(text), EMBEDDINGS) == {"1": "AVAILABLE"}
        assert states(json.loads(text), GRAPH) == {"1": "AVAILABLE"}
        assert server.repository.models.resolve(EMBEDDINGS) is not model_before
        assert server.repository.graph(GRAPH) is not graph_before
        async with session.post(
            f"http://127.0.0.1:{port}/v3/embeddings", json={"model": GRAPH, "input": ["hello"]}
        ) as response:
            assert response.status == 200
        assert (await reload(session, port))[0] == 200
