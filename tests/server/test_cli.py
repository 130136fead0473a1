"""The server command line: OVMS flag names and cross-checks, clear errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ovserve.cli import build_parser, config_from_args
from ovserve.config import ServerConfig


def parse(argv: list[str]) -> ServerConfig:
    parser = build_parser()
    return config_from_args(parser.parse_args(argv), parser)


def test_ovms_flags_build_the_config(tmp_path: Path) -> None:
    config = parse(
        [
            "--port",
            "9000",
            "--rest_port=8000",
            "--config_path",
            str(tmp_path / "config.json"),
            "--log_level",
            "debug",
        ]
    )
    assert config.grpc_port == 9000
    assert config.rest_port == 8000
    assert config.config_path == tmp_path / "config.json"
    assert config.log_level == "DEBUG"
    assert config.file_system_poll_wait_seconds == 1


def test_port_zero_disables_that_front_end(tmp_path: Path) -> None:
    config = parse(["--rest_port", "8000", "--config_path", str(tmp_path / "c.json")])
    assert config.grpc_port is None
    assert config.rest_port == 8000


def test_single_model_mode_with_plugin_config(tmp_path: Path) -> None:
    config = parse(
        [
            "--rest_port",
            "8000",
            "--model_name",
            "m",
            "--model_path",
            str(tmp_path),
            "--plugin_config",
            '{"NUM_STREAMS": 2}',
        ]
    )
    assert config.model_name == "m"
    assert config.plugin_config == {"NUM_STREAMS": "2"}


def test_source_model_is_single_model_mode_named_after_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "all-MiniLM-L6-v2"
    folder.mkdir()
    config = parse(["--rest_port", "8000", "--source_model", str(folder)])
    assert (config.model_name, config.model_path) == ("all-MiniLM-L6-v2", folder)
    named = parse(["--rest_port", "8000", "--source_model", str(folder), "--model_name", "minilm"])
    assert (named.model_name, named.model_path) == ("minilm", folder)


def test_api_key_from_file_first_line(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("s3cret\nignored\n")
    config = parse(["--rest_port", "8000", "--config_path", "c.json", "--api_key_file", str(key_file)])
    assert config.api_key == "s3cret"


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "from-env")
    assert parse(["--rest_port", "8000", "--config_path", "c.json"]).api_key == "from-env"
    monkeypatch.setenv("API_KEY", "")
    assert parse(["--rest_port", "8000", "--config_path", "c.json"]).api_key is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--config_path", "c.json"], "at least one of --port and --rest_port"),
        (["--port", "9000", "--rest_port", "9000", "--config_path", "c.json"], "must differ"),
        (["--rest_port", "8000"], "give --config_path, or --model_name with --model_path"),
        (["--rest_port", "8000", "--config_path", "c.json", "--model_name", "m"], "cannot be combined"),
        (["--rest_port", "8000", "--model_name", "m"], "needs both --model_name and --model_path"),
        (
            ["--port", "9000", "--config_path", "c.json", "--rest_workers", "4"],
            "--rest_workers needs --rest_port",
        ),
        (["--rest_port", "8000", "--config_path", "c.json", "--rest_workers", "1"], "must be in 2..10000"),
        (
            ["--rest_port", "8000", "--config_path", "c.json", "--grpc_workers", "0"],
            "--grpc_workers must be in",
        ),
        (["--port", "9000", "--config_path", "c.json", "--metrics_enable"], "Missing rest_port parameter"),
        (
            ["--rest_port", "8000", "--config_path", "c.json", "--metrics_list", "ovms_streams"],
            "needs --metrics_enable",
        ),
        (
            ["--rest_port", "8000", "--model_name", "m", "--model_path", "p", "--plugin_config", "{"],
            "not valid JSON",
        ),
        (
            ["--rest_port", "8000", "--model_name", "m", "--model_path", "p", "--plugin_config", "[1]"],
            "JSON object",
        ),
        (
            ["--rest_port", "8000", "--config_path", "c.json", "--plugin_config", "{}"],
            "only to single-model mode",
        ),
        (["--rest_port", "8000", "--source_model", "/nonexistent/hf-model"], "exports local folders only"),
        (
            ["--rest_port", "8000", "--source_model", ".", "--model_path", "p"],
            "give --source_model or --model_path, not both",
        ),
        (
            ["--rest_port", "8000", "--source_model", ".", "--config_path", "c.json"],
            "--config_path cannot be combined",
        ),
        (["--rest_port", "70000", "--config_path", "c.json"], "port must be in 0..65535"),
        (["--rest_port", "8000", "--config_path", "c.json", "--log_level", "LOUD"], "invalid choice"),
        (
            ["--rest_port", "8000", "--config_path", "c.json", "--file_system_poll_wait_seconds", "-1"],
            "must be >= 0",
        ),
        (
            ["--rest_port", "8000", "--config_path", "c.json", "--api_key_file", "/nonexistent/key"],
            "--api_key_file",
        ),
    ],
)
def test_bad_flags_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ovserve", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_version_and_help() -> None:
    assert run_cli("--version").stdout.startswith("ovserve ")
    help_text = run_cli("--help").stdout
    for flag in (
        "--port",
        "--rest_port",
        "--config_path",
        "--file_system_poll_wait_seconds",
        "--allowed_origins",
    ):
        assert flag in help_text


def test_invalid_workspace_stops_start_up_with_exit_1_and_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"model_config_list": [], "bogus": 1}')
    result = run_cli("--rest_port", "0", "--port", "1", "--config_path", str(config))
    assert result.returncode == 1, result.stderr
    assert "bogus" in result.stderr
    assert "config.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_limit_drain_and_access_log_flags(tmp_path: Path) -> None:
    config = parse(
        [
            "--rest_port=8000",
            "--config_path=c.json",
            "--max_request_bytes=1000",
            "--grpc_max_message_bytes=2000",
            "--max_inputs_per_request=16",
            "--max_tokens_per_request=4096",
            "--max_inflight_requests=8",
            "--servable_max_inflight=org/model=2",
            "--servable_max_inflight=other=0",
            "--request_timeout_seconds=2.5",
            "--shutdown_timeout=3",
            "--no-access_log",
        ]
    )
    limits = config.limits
    assert (limits.max_body_bytes, limits.max_grpc_message_bytes) == (1000, 2000)
    assert limits.max_inputs_per_request == 16
    assert limits.max_tokens_per_request == 4096
    assert limits.inflight_limit("org/model") == 2
    assert limits.inflight_limit("other") == 0
    assert limits.inflight_limit("x") == 8
    assert limits.request_timeout_seconds == 2.5
    assert config.shutdown_timeout_seconds == 3
    assert config.access_log is False
    defaults = parse(["--rest_port=8000", "--config_path=c.json"]).limits
    assert defaults.request_timeout_seconds is None
    assert defaults.max_tokens_per_request == 262_144


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--servable_max_inflight=model"], "--servable_max_inflight expects NAME=N"),
        (["--servable_max_inflight=m=-1"], "--servable_max_inflight expects NAME=N"),
        (["--max_request_bytes=0"], "must be >= 1"),
        (["--max_tokens_per_request=-5"], "must be >= 0"),
        (["--shutdown_timeout=-1"], "must be >= 0"),
        (["--ssl_certfile=cert.pem"], "TLS needs both --ssl_certfile and --ssl_keyfile"),
        (["--ssl_ca_certfile=ca.pem"], "--ssl_ca_certfile needs --ssl_certfile and --ssl_keyfile"),
        (["--ssl_certfile=nope.pem", "--ssl_keyfile=nope.key"], "TLS file not found: nope.pem"),
    ],
)
def test_limit_and_tls_flag_errors(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        parse(["--rest_port=8000", "--config_path=c.json", *extra])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_tls_flags_build_settings(tmp_path: Path) -> None:
    for name in ("cert.pem", "key.pem", "ca.pem"):
        (tmp_path / name).write_text("x")
    config = parse(
        [
            "--rest_port=8000",
            "--config_path=c.json",
            f"--ssl_certfile={tmp_path / 'cert.pem'}",
            f"--ssl_keyfile={tmp_path / 'key.pem'}",
            f"--ssl_ca_certfile={tmp_path / 'ca.pem'}",
        ]
    )
    assert config.tls is not None
    assert config.tls.ca_certfile == tmp_path / "ca.pem"


def test_batching_flags_reach_the_config() -> None:
    batching = [
        "--no-batching",
        "--max_batch_size",
        "8",
        "--max_batch_tokens",
        "1024",
        "--pad_to_multiple_of",
        "0",
    ]
    config = parse(["--rest_port", "8000", "--config_path", "c.json", *batching, "--graph_threads", "16"])
    assert (config.batching, config.max_batch_size, config.max_batch_tokens) == (False, 8, 1024)
    assert (config.pad_to_multiple_of, config.graph_threads) == (0, 16)
    defaults = parse(["--rest_port", "8000", "--config_path", "c.json"])
    assert (defaults.batching, defaults.max_batch_size, defaults.max_batch_tokens) == (True, 64, 8192)


@pytest.mark.parametrize("flag", ["--max_batch_size", "--max_batch_tokens"])
def test_batch_limits_must_be_positive(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse(["--rest_port", "8000", "--config_path", "c.json", flag, "0"])
    assert exited.value.code == 2
    assert "must be >= 1" in capsys.readouterr().err
