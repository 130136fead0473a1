"""`examples/openai_client`: the OVMS demo's OpenAI client snippet against a real server, offline."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys

import pytest

from tests.running import running_server
from tests.support.models import REPO_ROOT, exported_workspace

SCRIPT = REPO_ROOT / "examples" / "openai_client" / "openai_client.py"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def offline_env() -> dict[str, str]:
    """The environment with every proxy pointed at a dead port, so any request off loopback fails."""
    dead = f"http://127.0.0.1:{closed_port()}"
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, ALL_PROXY=dead, NO_PROXY="127.0.0.1,localhost")
    return env


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=offline_env(),
    )


@pytest.mark.slow
async def test_prints_the_seed_similarity_and_reports_an_unknown_model() -> None:
    async with running_server(exported_workspace()) as server:
        url = f"http://127.0.0.1:{server.rest_port}/v3"
        result = await asyncio.to_thread(run_example, "--url", url)
        unknown = await asyncio.to_thread(run_example, "--url", url, "--model", "no-such-model")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    match = re.fullmatch(r"Similarity score as cos_sim (\S+)\n", result.stdout)
    assert match, result.stdout
    # 0.94208 with the int8 export `make serve` uses (examples/openai_client/README.md).
    assert 0.93 < float(match[1]) < 0.96

    assert unknown.returncode == 1
    assert unknown.stdout == ""
    assert "Traceback" not in unknown.stderr
    assert "answered 404: Mediapipe graph definition with requested name is not found" in unknown.stderr


def test_an_unreachable_server_is_one_line_not_a_traceback() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v3"
    result = run_example("--url", url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: cannot reach {url}: "), result.stderr
    assert "make serve" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
