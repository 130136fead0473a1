"""When the shared access-log writer logs a line: after the loop iteration that finished the
request (lines of one iteration together, in order, each with its own finish time), or at
once off a loop; a loop closed before its write callback ran loses nothing (the next loop,
or interpreter exit, writes its lines)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

from ovserve.frontends import access_log


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "ovserve.access"]


@pytest.fixture
def access_caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level("INFO", logger="ovserve.access")
    return caplog


def test_off_a_loop_a_line_is_logged_at_once(access_caplog: pytest.LogCaptureFixture) -> None:
    assert access_log.enabled()
    access_log.log_request({"n": 1})
    assert _lines(access_caplog) == [{"n": 1}]


async def test_on_a_loop_lines_wait_for_the_end_of_the_iteration(
    access_caplog: pytest.LogCaptureFixture,
) -> None:
    finished = time.time()
    for n in range(3):
        access_log.log_request({"n": n})
    time.sleep(0.2)  # noqa: ASYNC251 - on purpose: the iteration that finished the requests goes on
    assert _lines(access_caplog) == []  # ... and has not ended yet
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert _lines(access_caplog) == [{"n": 0}, {"n": 1}, {"n": 2}]
    # Each record carries the time its request finished, not the time it was written (0.2 s later).
    created = [r.created for r in access_caplog.records if r.name == "ovserve.access"]
    assert all(finished <= c < finished + 0.1 for c in created)
    assert created == sorted(created)


def test_a_loop_closed_before_its_write_keeps_the_lines_for_the_next(
    access_caplog: pytest.LogCaptureFixture,
) -> None:
    def log_then_close(n: int) -> None:
        loop = asyncio.new_event_loop()

        def finish_request() -> None:
            access_log.log_request({"n": n})
            loop.stop()  # the loop ends with this iteration: the write callback never runs

        try:
            loop.call_soon(finish_request)
            loop.run_forever()
        finally:
            loop.close()

    log_then_close(1)
    assert _lines(access_caplog) == []

    async def later() -> None:
        access_log.log_request({"n": 2})
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(later())
    assert _lines(access_caplog) == [{"n": 1}, {"n": 2}]


def test_lines_of_a_last_iteration_are_logged_at_exit() -> None:
    script = """
import asyncio, logging
from ovserve.frontends import access_log
logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
loop = asyncio.new_event_loop()
def finish_request():
    access_log.log_request({"n": 1})
    loop.stop()
loop.call_soon(finish_request)
loop.run_forever()
loop.close()
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.splitlines() == ['ovserve.access {"n":1}']
