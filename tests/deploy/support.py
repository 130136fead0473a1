"""Helpers for the deployment tests: the `ovserve` command as a container would run it.

`running_ovserve(args)` starts the installed `ovserve` console script (the image's ENTRYPOINT)
with a container's arguments, after the caller has swapped the container paths and ports for a
local workspace and free ports, and waits until `/v2/health/ready` answers 200.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
READY_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_status(url: str, timeout: float = 5.0) -> int | None:
    """The HTTP status of GET `url`, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"ovserve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        if http_status(url, timeout=2) == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready after {READY_TIMEOUT_S:.0f} s:\n{log.read_text()[-4000:]}")


@dataclass(frozen=True)
class Started:
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def running_ovserve(args: Sequence[str], ready_url: str, log: Path) -> Iterator[Started]:
    """`ovserve *args` until the block ends; then SIGTERM, and the exit code must be 0."""
    command = [str(BIN_DIR / "ovserve"), *args]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=log.parent)
    try:
        wait_until_ready(ready_url, process, log)
        yield Started(process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode == 0, f"{shlex.join(command)} exited {process.returncode}:\n{log.read_text()}"


def run_checked(command: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> str:
    """Run `command`; its stdout, or an AssertionError with its output when it fails."""
    result = subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env=None if env is None else {**os.environ, **env},
        check=False,
    )
    assert result.returncode == 0, (
        f"{shlex.join(command)} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout
