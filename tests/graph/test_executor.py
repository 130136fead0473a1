"""NodeExecutor: the bound on threads, threads on demand, queued jobs, cancellation, shutdown."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ovserve.errors import Unavailable
from ovserve.graph import NodeExecutor


def _workers(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(f"{name}_")]


async def test_jobs_beyond_max_workers_wait_their_turn_and_all_finish() -> None:
    release = threading.Event()
    lock = threading.Lock()
    running = 0
    peak = 0

    def job(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        release.wait(5)
        with lock:
            running -= 1
        return i

    async with NodeExecutor(max_workers=3, name="bounded") as executor:
        tasks = [asyncio.create_task(executor.run(job, i)) for i in range(10)]
        await asyncio.sleep(0.1)
        assert len(_workers("bounded")) == 3
        release.set()
        assert await asyncio.gather(*tasks) == list(range(10))
    assert peak == 3


async def test_threads_start_only_when_no_worker_is_idle() -> None:
    async with NodeExecutor(max_workers=8, name="ondemand") as executor:
        for i in range(5):  # one job at a time: the first worker serves them all
            assert await executor.run(pow, i, 2) == i * i
        assert len(_workers("ondemand")) == 1


async def test_an_error_reaches_the_caller_and_the_worker_goes_on() -> None:
    def fail() -> None:
        raise ValueError("boom")

    async with NodeExecutor(max_workers=1) as executor:
        with pytest.raises(ValueError, match="boom"):
            await executor.run(fail)
        assert await executor.run(lambda: "still serving") == "still serving"


async def test_a_cancelled_await_discards_the_result_and_the_executor_goes_on() -> None:
    started = threading.Event()
    release = threading.Event()
    finished = threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        finished.set()
        return "late"

    async with NodeExecutor(max_workers=1) as executor:
        task = asyncio.create_task(executor.run(slow))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        # The same single worker serves the next job once the abandoned one is done.
        assert await executor.run(lambda: "next") == "next"
        assert finished.is_set()


async def test_shutdown_finishes_queued_work_then_refuses_more() -> None:
    release = threading.Event()
    done: list[int] = []

    def job(i: int) -> None:
        release.wait(5)
        done.append(i)

    executor = NodeExecutor(max_workers=1, name="draining")
    tasks = [asyncio.create_task(executor.run(job, i)) for i in range(3)]
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.to_thread(executor.shutdown)
    assert done == [0, 1, 2]
    await asyncio.gather(*tasks)
    assert _workers("draining") == []
    with pytest.raises(Unavailable, match="shut down"):
        await executor.run(int)
    executor.shutdown()  # idempotent
