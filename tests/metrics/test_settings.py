"""Turning metrics on and off: flags, `config.json`, `metrics_list`, and the start-up errors.

Toy models only (no export): these tests are about which families exist, not their values.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ovserve.errors import ConfigError
from ovserve.metrics import DEFAULT, FAMILIES
from ovserve.metrics.families import LATENCY_BUCKETS_US
from tests.metrics.support import Scrape, scrape
from tests.running import running_server
from tests.support.toys import write_toy_workspace
from tests.test_layering import modules_loaded_by, offending

REPO = Path(__file__).resolve().parents[2]


def with_monitoring(config: Path, metrics: dict[str, object]) -> Path:
    data = json.loads(config.read_text())
    data["monitoring"] = {"metrics": metrics}
    config.write_text(json.dumps(data))
    return config


async def scrape_new_server(config: Path, **settings: Any) -> Scrape:
    """Start a server on `config` with `settings`, scrape it once, stop it."""
    async with running_server(config, **settings) as server, aiohttp.ClientSession() as session:
        return await scrape(session, server)


async def test_metrics_off_answers_400_invalid_request_url(tmp_path: Path) -> None:
    async with (
        running_server(write_toy_workspace(tmp_path)) as server,
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.rest_port}/metrics") as response,
    ):
        assert response.status == 400
        assert await response.json() == {"error": "Invalid request URL"}


async def test_default_families_have_ovms_names_types_and_buckets(tmp_path: Path) -> None:
    async with (
        running_server(write_toy_workspace(tmp_path), metrics_enable=True) as server,
        aiohttp.ClientSession() as session,
    ):
        result = await scrape(session, server)
        async with session.post(f"http://127.0.0.1:{server.rest_port}/metrics") as response:
            assert response.status == 405
            assert response.headers["Allow"] == "GET"
    for name in DEFAULT:
        family = FAMILIES[name]
        # As OVMS writes them: counters keep their own name (no `_total` added, no `_created`).
        assert f"# TYPE {name} {family.kind}\n" in result.text
    assert "_created" not in result.text
    assert "ovms_infer_req_queue_size" not in result.text  # optional: only when listed
    # One stream per toy model version, on OpenVINO's CPU default for a LATENCY hint.
    assert result.value("ovms_streams", name="relu", version="2") >= 1
    assert list(LATENCY_BUCKETS_US[:5]) == [10, 18, 32, 58, 104]
    assert LATENCY_BUCKETS_US[-1] == 1474755971
    assert len(LATENCY_BUCKETS_US) == 33


async def test_metrics_list_enables_exactly_the_listed_families(tmp_path: Path) -> None:
    listed = ("ovms_requests_success", "ovms_infer_req_queue_size", "ovserve_admission_queue_depth")
    result = await scrape_new_server(write_toy_workspace(tmp_path), metrics_enable=True, metrics_list=listed)
    typed = {line.split()[2] for line in result.text.splitlines() if line.startswith("# TYPE")}
    assert typed == set(listed)
    assert result.value("ovms_infer_req_queue_size", name="relu", version="1") >= 1


async def test_config_json_turns_metrics_on_with_its_list(tmp_path: Path) -> None:
    config = with_monitoring(
        write_toy_workspace(tmp_path), {"enable": True, "metrics_list": ["ovms_streams"]}
    )
    result = await scrape_new_server(config)
    assert set(result.types) == {"ovms_streams"}
    assert {s["name"] for s in result.series("ovms_streams")} == {"relu", "types"}


async def test_the_flag_list_wins_over_config_json(tmp_path: Path) -> None:
    config = with_monitoring(
        write_toy_workspace(tmp_path), {"enable": False, "metrics_list": ["ovms_streams"]}
    )
    result = await scrape_new_server(config, metrics_enable=True, metrics_list=("ovms_current_requests",))
    assert "# TYPE ovms_current_requests gauge" in result.text
    assert "ovms_streams" not in result.text


@pytest.mark.parametrize("source", ["flag", "config"])
async def test_an_unknown_family_stops_the_server(tmp_path: Path, source: str) -> None:
    config = write_toy_workspace(tmp_path)
    settings: dict[str, Any] = {"metrics_enable": True, "metrics_list": ("ovms_requests_success", "nope")}
    if source == "config":
        with_monitoring(config, {"enable": True, "metrics_list": ["nope"]})
        settings = {}
    with pytest.raises(ConfigError, match=r"^Invalid name in metrics_list: nope"):
        async with running_server(config, **settings):
            pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "ovserve", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_cli_exits_1_on_an_unknown_family_without_a_traceback(tmp_path: Path) -> None:
    config = write_toy_workspace(tmp_path)
    done = run_cli(
        "--rest_port", str(free_port()), "--config_path", str(config), "--metrics_enable",
        "--metrics_list", "ovms_requests_success,ovms_bogus",
    )  # fmt: skip
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Invalid name in metrics_list: ovms_bogus" in output
    assert "Traceback" not in output


def test_cli_exits_1_when_config_json_enables_metrics_without_a_rest_port(tmp_path: Path) -> None:
    config = with_monitoring(write_toy_workspace(tmp_path), {"enable": True})
    done = run_cli("--port", str(free_port()), "--config_path", str(config))
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Missing rest_port parameter in server CLI" in output
    assert "Traceback" not in output


async def test_metrics_need_the_api_key_like_every_other_route(tmp_path: Path) -> None:
    async with (
        running_server(write_toy_workspace(tmp_path), metrics_enable=True, api_key="secret") as server,
        aiohttp.ClientSession() as session,
    ):
        url = f"http://127.0.0.1:{server.rest_port}/metrics"
        async with session.get(url) as response:
            assert response.status == 401
        async with session.get(url, headers={"Authorization": "Bearer secret"}) as response:
            assert response.status == 200
            assert "# TYPE ovms_streams gauge" in await response.text()


def test_the_metrics_package_imports_no_web_or_rpc_framework() -> None:
    """The guard and the data plane use it, so it belongs to the core side of the layering."""
    loaded = modules_loaded_by(["ovserve.metrics"])
    assert offending(loaded, ("aiohttp", "grpc", "grpc_tools", "multidict", "yarl")) == []
