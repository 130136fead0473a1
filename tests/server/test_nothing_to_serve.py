"""A start-up workspace none of whose entries can serve stops the real process with exit code 1.

Each case runs `python -m ovserve` and bounds it with a timeout: the process must end by
itself, with the reason of every entry on stderr. A workspace without entries, one good entry
among bad ones, and a reload that breaks every entry all keep the server running.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from ovserve import status
from ovserve.startup_check import unservable_reasons
from ovserve.workspace import GraphSpec, ModelSpec, Workspace
from tests.reliability.process import free_port, server_process
from tests.toy_models import write_relu_model

# Start-up of an empty process is ~3 s on 2 cores; far more means it did not exit by itself.
EXIT_WITHIN_SECONDS = 60
SUMMARY = "can be served, exiting (code 1); entry by entry:"
MISSING_MODEL_GRAPH = """\
input_stream: "REQUEST_PAYLOAD:input"
output_stream: "RESPONSE_PAYLOAD:output"
node {
  name: "EmbeddingsExecutor"
  calculator: "EmbeddingsCalculatorOV"
  input_stream: "REQUEST_PAYLOAD:input"
  output_stream: "RESPONSE_PAYLOAD:output"
  node_options: {
    [type.googleapis.com/mediapipe.EmbeddingsCalculatorOVOptions]: { models_path: "./not_exported" }
  }
}
"""


def write_config(root: Path, *entries: dict[str, object]) -> Path:
    config = root / "config.json"
    config.write_text(json.dumps({"model_config_list": [{"config": e} for e in entries]}))
    return config


def run_ovserve(*args: str) -> subprocess.CompletedProcess[str]:
    """The server process run to its end (REST and gRPC on free ports), or TimeoutExpired."""
    command = [sys.executable, "-m", "ovserve", "--rest_port", str(free_port()), "--port", str(free_port())]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=EXIT_WITHIN_SECONDS, check=False
    )


def assert_exited_naming(result: subprocess.CompletedProcess[str], *reasons: str) -> None:
    assert result.returncode == 1, result.stderr
    assert SUMMARY in result.stderr, result.stderr
    summary = result.stderr[result.stderr.index(SUMMARY) :]
    for reason in reasons:
        assert reason in summary, (reason, summary)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"base_path": "relu"}, 'model_config_list[0].config: missing required key "name"'),
        (
            {"name": "relu", "base_path": "relu", "nireqq": 1},
            "model_config_list[0].config.nireqq: unknown key",
        ),
    ],
    ids=["no name", "unknown key"],
)
def test_a_config_without_a_valid_entry_exits_1_naming_it(
    tmp_path: Path, entry: dict[str, object], reason: str
) -> None:
    write_relu_model(tmp_path / "relu" / "1")
    result = run_ovserve("--config_path", str(write_config(tmp_path, entry)))
    assert_exited_naming(result, reason)
    # Refused before the ports open: nothing was loaded.
    assert "listening" not in result.stderr


def test_a_config_whose_entries_all_fail_to_load_exits_1_naming_each(tmp_path: Path) -> None:
    (tmp_path / "broken" / "1").mkdir(parents=True)
    (tmp_path / "broken" / "1" / "model.xml").write_text("<not a model")
    (tmp_path / "no_versions").mkdir()
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "graph.pbtxt").write_text(MISSING_MODEL_GRAPH)
    config = write_config(
        tmp_path,
        {"name": "broken", "base_path": "broken"},
        {"name": "no_versions", "base_path": "no_versions"},
        {"name": "graph", "base_path": "graph"},
        {"name": "typo", "base_path": "broken", "nireqq": 1},
    )
    result = run_ovserve("--config_path", str(config))
    assert_exited_naming(
        result,
        'model "broken": version 1: ',
        "Unable to read the model",
        'model "no_versions": no version directory (an integer > 0) in',
        'graph "graph": ',
        "missing model files",
        "model_config_list[3].config.nireqq: unknown key",
    )


def test_single_model_mode_on_a_model_that_fails_to_load_exits_1(tmp_path: Path) -> None:
    (tmp_path / "m" / "1").mkdir(parents=True)
    (tmp_path / "m" / "1" / "model.xml").write_text("<not a model")
    result = run_ovserve("--model_name", "m", "--model_path", str(tmp_path / "m"))
    assert_exited_naming(result, 'model "m": version 1: ')


async def test_an_empty_config_serves_nothing_and_stays_up(tmp_path: Path) -> None:
    """As OVMS: `model_config_list: []` is a valid workspace that serves nothing (yet)."""
    config = tmp_path / "config.json"
    config.write_text('{"model_config_list": []}')
    async with server_process(config, tmp_path / "log") as running, aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{running.rest_port}/v1/config") as response:
            assert (response.status, await response.json()) == (200, {})
        await asyncio.sleep(1)
        assert running.process.returncode is None, running.output()


async def test_one_servable_entry_keeps_the_server_up_and_a_reload_never_exits(tmp_path: Path) -> None:
    write_relu_model(tmp_path / "relu" / "1")
    config = write_config(tmp_path, {"name": "relu", "base_path": "relu"}, {"base_path": "relu"})
    async with server_process(config, tmp_path / "log") as running, aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{running.rest_port}"
        # Every entry invalid now: the reload keeps what was served, the process stays.
        write_config(tmp_path, {"name": "relu", "base_path": "relu", "nireqq": 1}, {"base_path": "relu"})
        async with session.post(f"{base}/v1/config/reload") as response:
            assert response.status in (200, 201), await response.text()
        await asyncio.sleep(1)
        assert running.process.returncode is None, running.output()
        async with session.get(f"{base}/v2/models/relu/ready") as response:
            assert response.status == 200


def test_a_failed_graph_does_not_count_as_served_because_its_subconfig_models_loaded() -> None:
    model = ModelSpec(name="g_tok", base_path=Path("/w/g/tok"), origin="subconfig.json", graph="g")
    graph = GraphSpec(
        name="g",
        base_path=Path("/w/g"),
        graph_path=Path("/w/g/graph.pbtxt"),
        subconfig_path=Path("/w/g/subconfig.json"),
        models=(model,),
        origin="config.json: model_config_list[0]",
    )
    workspace = Workspace(config_path=Path("/w/config.json"), root=Path("/w"), graphs=(graph,))
    statuses = {"g_tok": [status.available()], "g": [status.load_failed("no\nnode", graph=True)]}
    reason = 'config.json: model_config_list[0]: graph "g": no node'
    assert unservable_reasons(workspace, statuses) == [reason]
    assert unservable_reasons(workspace, {**statuses, "g": [status.available()]}) is None
    assert unservable_reasons(Workspace(config_path=None, root=Path("/w")), {}) is None
