"""Ray integration pieces that need no running Ray: request targets, command-line checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Also imports ray.serve with warnings silenced: Ray 2.60 trips a pydantic deprecation warning.
pytest.importorskip("ray.serve")

from ray.serve import Application

from ovserve.errors import ConfigError
from ovserve.integrations.ray.__main__ import main
from ovserve.integrations.ray.builder import app_builder, builder_arguments
from ovserve.integrations.ray.deployment import _path, _target, build_app


@pytest.mark.parametrize(
    ("scope", "target"),
    [
        ({"path": "/v3/embeddings", "raw_path": b"/v3/embeddings", "root_path": ""}, "/v3/embeddings"),
        # route_prefix="/ovserve": Ray moves the prefix into root_path and keeps the full path.
        (
            {"path": "/ovserve/v1/config", "raw_path": b"/ovserve/v1/config", "root_path": "/ovserve"},
            "/v1/config",
        ),
        ({"path": "/ovserve", "raw_path": b"/ovserve", "root_path": "/ovserve"}, "/"),
        # Percent-encoding and the query string are kept as the client sent them.
        (
            {
                "path": "/v2/models/a b/ready",
                "raw_path": b"/v2/models/a%20b/ready",
                "root_path": "",
                "query_string": b"x=1&y=%2F",
            },
            "/v2/models/a%20b/ready?x=1&y=%2F",
        ),
        ({"path": "/v2/models/a b/ready", "root_path": ""}, "/v2/models/a%20b/ready"),
    ],
)
def test_target_is_the_path_below_the_route_prefix(scope: dict[str, object], target: str) -> None:
    assert _target(scope) == target


def test_error_routing_uses_the_path_below_the_route_prefix() -> None:
    assert _path({"path": "/ovserve/v3/embeddings", "root_path": "/ovserve"}) == "/v3/embeddings"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--port", "9000"], "gRPC is not served through Ray"),
        (["--ssl_certfile", "c.pem", "--ssl_keyfile", "k.pem"], "terminate TLS"),
    ],
)
def test_the_command_refuses_what_ray_does_not_serve_before_starting_ray(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    (tmp_path / "c.pem").write_text("x")
    (tmp_path / "k.pem").write_text("x")
    config = tmp_path / "config.json"
    config.write_text('{"model_config_list": []}')
    argv = ["--config_path", str(config), "--rest_port", "8000"]
    argv += [str(tmp_path / f) if f.endswith(".pem") else f for f in flags]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_build_app_needs_a_valid_workspace(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs config_path"):
        build_app()
    with pytest.raises(ConfigError):
        build_app(tmp_path / "missing.json")


def test_the_command_exits_1_on_an_invalid_workspace_before_starting_ray(tmp_path: Path) -> None:
    # A subprocess: the command configures the process's logging, as `ovserve` does.
    missing = tmp_path / "missing.json"
    command = ["-m", "ovserve.integrations.ray", "--config_path", str(missing), "--rest_port", "8000"]
    done = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "missing.json" in done.stderr
    assert "Started a local Ray instance" not in done.stderr


def test_app_builder_reads_serve_config_args(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"model_config_list": []}')
    args = {
        "config_path": str(config),
        "replicas": "3",  # `serve run key=value` passes strings
        "num_cpus": 2,
        "pin_threads": "false",
        "flags": "--max_batch_size 16 --no-access_log --api_key_file " + str(config),
    }
    options = builder_arguments(args)
    server = options.pop("server")
    assert options == {"config_path": str(config), "replicas": 3, "num_cpus": 2.0, "pin_threads": False}
    assert (server.max_batch_size, server.access_log) == (16, False)
    assert server.api_key == config.read_text()  # the first line of --api_key_file
    assert isinstance(app_builder(args), Application)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"replicas": 2}, "needs config_path"),
        ({"config_path": "c.json", "replica": 2}, "unknown ovserve app_builder arguments"),
        ({"config_path": "c.json", "replicas": "two"}, "replicas"),
        ({"config_path": "c.json", "flags": "--max_batch_size zero"}, "invalid ovserve flags"),
        ({"config_path": "c.json", "flags": "--port 9000"}, "not served through Ray"),
    ],
)
def test_app_builder_refuses_bad_args(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        builder_arguments(args)
