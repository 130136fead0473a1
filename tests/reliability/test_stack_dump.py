"""`kill -USR1` on a running `python -m ovserve`: every thread's stack in its output, still serving."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.reliability.process import server_process
from tests.support.toys import write_slow_workspace


async def test_sigusr1_dumps_every_thread_and_the_server_goes_on(tmp_path: Path) -> None:
    config = write_slow_workspace(tmp_path / "ws")
    async with server_process(config, tmp_path / "server.log") as server:
        server.process.send_signal(signal.SIGUSR1)
        for _ in range(50):
            if "Current thread" in server.output():
                break
            await asyncio.sleep(0.1)
        url = f"http://127.0.0.1:{server.rest_port}/v2/health/ready"
        async with aiohttp.ClientSession() as session, session.get(url) as r:
            assert r.status == 200
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.process.wait(), timeout=20) == 0
    output = server.output()
    assert "Current thread" in output, output[-3000:]
    assert 'File "' in output
    assert "Thread 0x" in output  # the other threads too, not only the one that took the signal
    # Shutdown names each step and its duration, so a slow one is visible in the log.
    for step in ("REST front end drained in", "gRPC front end drained in", "graphs closed in"):
        assert step in output, output[-3000:]
