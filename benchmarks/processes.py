"""Server subprocesses for compare.py: free ports, start, wait until ready, sample RSS, stop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp


def free_port() -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of every thread of `pid` so far, from /proc (resolution 1 /
    SC_CLK_TCK, 10 ms here); None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat_cpu_seconds(stat)


def main_thread_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid`'s main thread (ovserve's event loop) so far; None when
    the process is gone. Same resolution as `cpu_seconds`."""
    try:
        stat = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
    except OSError:
        return None
    return stat_cpu_seconds(stat)


def stat_cpu_seconds(stat: str) -> float:
    """User + system CPU seconds in the text of a /proc `stat` file (a process's or a thread's)."""
    user, system = _stat_ticks(stat)
    return (user + system) / CLOCK_TICKS


def stat_system_seconds(stat: str) -> float:
    """System (kernel) CPU seconds in the text of a /proc `stat` file."""
    return _stat_ticks(stat)[1] / CLOCK_TICKS


def _stat_ticks(stat: str) -> tuple[int, int]:
    """(utime, stime) clock ticks of a /proc `stat` text (fields 14 and 15)."""
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]), int(fields[12])


def rss_mib(pid: int) -> float | None:
    """VmRSS of `pid` in MiB from /proc; None when the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return None


class ServerProcess:
    """A server started as `command`, with its output in `log`; use `async with`.

    Entering waits until `ready_url` answers 200 (raises RuntimeError with the log's tail if
    the process exits or `timeout` passes); leaving sends SIGTERM, then SIGKILL after 20 s.
    """

    def __init__(self, name: str, command: Sequence[str], ready_url: str, log: Path, timeout: float = 240.0):
        self.name = name
        self.command = list(command)
        self.ready_url = ready_url
        self.log = log
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}
        """Variables set for the process on top of this one's environment."""
        self.cwd: Path | None = None
        """Working directory (`python -m` puts it first on sys.path); None: this one's."""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def start(self) -> subprocess.Popen[bytes]:
        """Start the process (no waiting)."""
        with self.log.open("wb") as sink:
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
            self.process = subprocess.Popen(
                self.command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=self.cwd
            )
        return self.process

    async def __aenter__(self) -> ServerProcess:
        self.start()
        assert self.process is not None
        deadline = time.monotonic() + self.timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while True:
                if self.process.poll() is not None:
                    last = self.tail(1).strip() or "no output"
                    raise RuntimeError(
                        f"{self.name} exited with {self.process.returncode}: {last}\n{self.tail()}"
                    )
                try:
                    async with session.get(self.ready_url) as response:
                        if response.status == 200:
                            return self
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    await self.stop()
                    raise RuntimeError(f"{self.name} not ready after {self.timeout:.0f} s:\n{self.tail()}")
                await asyncio.sleep(0.25)

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Terminate the process this object started (only that pid)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        for _ in range(80):
            if self.process.poll() is not None:
                return
            await asyncio.sleep(0.25)
        self.process.kill()
        self.process.wait()


@dataclass
class RssSampler:
    """Samples VmRSS of `pid` every `interval` seconds as (seconds, requests done, MiB)."""

    pid: int
    done: object
    """Anything with an int attribute `done` (the bench's Progress)."""
    interval: float = 0.25
    samples: list[tuple[float, int, float]] = field(default_factory=list)

    async def run(self) -> None:
        """Sample until cancelled."""
        start = time.perf_counter()
        while True:
            value = rss_mib(self.pid)
            if value is not None:
                self.samples.append((time.perf_counter() - start, int(getattr(self.done, "done", 0)), value))
            await asyncio.sleep(self.interval)


def ovserve_server(
    config_path: Path, log: Path, *, grpc: bool, flags: Sequence[str] = ()
) -> tuple[ServerProcess, int, int | None]:
    """`python -m ovserve` on free ports (REST, and gRPC when `grpc`) with `flags` added;
    workspace watching off, so the file poller costs nothing during measurements. Returns
    (server, rest, grpc port)."""
    rest = free_port()
    grpc_port = free_port() if grpc else None
    command = [sys.executable, "-m", "ovserve", "--config_path", str(config_path), "--rest_port", str(rest)]
    command += ["--file_system_poll_wait_seconds", "0", *flags]
    if grpc_port is not None:
        command += ["--port", str(grpc_port)]
    ready = f"http://127.0.0.1:{rest}/v2/health/ready"
    return ServerProcess("ovserve", command, ready, log), rest, grpc_port


def baseline_server(graph_dir: Path, log: Path) -> tuple[ServerProcess, int]:
    """`baseline_server.py` for one graph directory on a free port; returns (server, port)."""
    port = free_port()
    script = Path(__file__).resolve().parent / "baseline_server.py"
    command = [sys.executable, str(script), "--graph_dir", str(graph_dir), "--port", str(port)]
    return ServerProcess("baseline", command, f"http://127.0.0.1:{port}/v2/health/ready", log), port
