"""A real `python -m ovserve` process for tests that signal it: start, wait until ready, log."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    process: asyncio.subprocess.Process
    rest_port: int
    grpc_port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


async def _wait_ready(port: int, process: asyncio.subprocess.Process, seconds: float = 30) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(int(seconds * 10)):
            assert process.returncode is None, "server exited during start-up"
            try:
                async with session.get(f"http://127.0.0.1:{port}/v2/health/ready") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server did not become ready")


@asynccontextmanager
async def server_process(config: Path, log: Path, *extra: str) -> AsyncIterator[ServerProcess]:
    """Serve `config` on free ports until ready; kill the process on exit if it still runs.

    stdout and stderr both go to `log`.
    """
    async with serving(log, "--config_path", str(config), *extra) as started:
        yield started


@asynccontextmanager
async def serving(log: Path, *args: str, ready_seconds: float = 30) -> AsyncIterator[ServerProcess]:
    """`python -m ovserve *args` on free ports, until ready (`server_process` with any flags)."""
    rest_port, grpc_port = free_port(), free_port()
    command = [sys.executable, "-m", "ovserve", "--rest_port", str(rest_port), "--port", str(grpc_port)]
    command += ["--file_system_poll_wait_seconds", "0", *args]
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(*command, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        await _wait_ready(rest_port, process, ready_seconds)
        yield ServerProcess(process, rest_port, grpc_port, log)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
