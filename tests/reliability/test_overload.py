"""Admission control under ~10× the sustainable rate: only 200 and 429, nothing lost or wrong.

The issue's test: 10 s at about 10× the sustainable rate. The rate is measured first (closed
loop at the in-flight limit) and then offered ×10 as open-loop arrivals; the load generator
shares the process and its 2 cores with the server, so the achieved rate is asserted to be at
least 6× what was measured (it reaches ~9× on an idle machine).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import grpc
import pytest

from ovserve.config import RequestLimits
from tests.grpc.stub import InferenceStub
from tests.reliability.support import grpc_answer_matches, grpc_request, rest_answer_matches, rest_body
from tests.running import running_server
from tests.support.toys import write_slow_workspace

LIMIT = 4
LOAD_SECONDS = 10.0
BODIES = [rest_body(seed) for seed in range(32)]
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def slow_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_slow_workspace(Path(tmp_path_factory.mktemp("slow")))


class Tally:
    def __init__(self) -> None:
        self.ok = 0
        self.refused = 0
        self.problems: list[str] = []


async def _one(session: aiohttp.ClientSession, url: str, index: int, tally: Tally) -> None:
    body, x = BODIES[index % len(BODIES)]
    try:
        async with session.post(url, data=body, headers=JSON) as r:
            raw = await r.read()
            if r.status == 200:
                if rest_answer_matches(raw, x):
                    tally.ok += 1
                else:
                    tally.problems.append(f"request {index}: wrong answer")
            elif r.status == 429 and r.headers.get("Retry-After") == "1" and b"is overloaded" in raw:
                tally.refused += 1
            else:
                tally.problems.append(f"request {index}: {r.status} {raw[:200]!r}")
    except Exception as exc:  # a lost response is a failure, whatever its kind
        tally.problems.append(f"request {index}: {exc!r}")


async def _capacity(session: aiohttp.ClientSession, url: str) -> float:
    """Requests per second at the in-flight limit (closed loop, 1 s)."""
    tally = Tally()
    started = time.perf_counter()

    async def worker(offset: int) -> None:
        index = offset
        while time.perf_counter() - started < 1.0:
            await _one(session, url, index, tally)
            index += LIMIT

    await asyncio.gather(*(worker(i) for i in range(LIMIT)))
    assert tally.problems == []
    assert tally.refused == 0
    return tally.ok / (time.perf_counter() - started)


async def test_rest_overload_sees_only_200_and_429_and_recovers(slow_config: Path) -> None:
    async with (
        running_server(slow_config, limits=RequestLimits(max_inflight_requests=LIMIT)) as server,
        # Up to 256 connections: far above the in-flight limit, below the process fd limit
        # (client and server share it; a new connection per queued request would exhaust it).
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session,
    ):
        url = f"http://127.0.0.1:{server.rest_port}/v2/models/slow/infer"
        capacity = await _capacity(session, url)
        rate = 10 * capacity
        tally, tasks = Tally(), []
        started = time.perf_counter()
        index = 0
        while (now := time.perf_counter() - started) < LOAD_SECONDS:
            due = int(now * rate)
            while index < due:
                tasks.append(asyncio.create_task(_one(session, url, index, tally)))
                index += 1
            await asyncio.sleep(0.002)
        await asyncio.gather(*tasks)
        load_ended = time.perf_counter()
        assert tally.problems == []
        assert tally.ok + tally.refused == len(tasks)
        assert tally.refused > 0
        assert tally.ok > 0
        achieved = len(tasks) / LOAD_SECONDS / capacity
        print(f"overload: {achieved:.1f}x the sustainable {capacity:.0f} req/s for {LOAD_SECONDS:g} s")
        assert achieved > 6, (len(tasks), capacity)

        # Full service again: LIMIT concurrent requests all answered correctly, within 1 s.
        after = Tally()
        await asyncio.gather(*(_one(session, url, i, after) for i in range(LIMIT)))
        assert after.problems == []
        assert after.ok == LIMIT
        assert time.perf_counter() - load_ended < 1.0
        assert server.guard.inflight("slow") == 0


async def test_grpc_burst_sees_only_ok_and_resource_exhausted(slow_config: Path) -> None:
    async with (
        running_server(slow_config, limits=RequestLimits(max_inflight_requests=LIMIT)) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        stub = InferenceStub(channel)
        requests = [grpc_request(seed) for seed in range(10 * LIMIT)]
        results = await asyncio.gather(
            *(stub.ModelInfer(request) for request, _ in requests), return_exceptions=True
        )
        ok = refused = 0
        for (_, x), result in zip(requests, results, strict=True):
            if isinstance(result, grpc.aio.AioRpcError):
                assert result.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, result
                assert "is overloaded: 4 requests already in flight" in (result.details() or "")
                assert ("grpc-retry-pushback-ms", "1000") in tuple(result.trailing_metadata() or ())
                refused += 1
            else:
                assert not isinstance(result, BaseException), result
                assert grpc_answer_matches(result, x)
                ok += 1
        assert ok >= LIMIT
        assert refused > 0
        request, x = requests[0]
        assert grpc_answer_matches(await stub.ModelInfer(request), x)


async def test_per_servable_override_and_unlimited(slow_config: Path) -> None:
    limits = RequestLimits(max_inflight_requests=1, max_inflight_per_servable={"slow": 0})
    async with running_server(slow_config, limits=limits) as server:
        assert limits.inflight_limit("slow") == 0
        assert limits.inflight_limit("other") == 1
        async with aiohttp.ClientSession() as session:
            tally = Tally()
            url = f"http://127.0.0.1:{server.rest_port}/v2/models/slow/infer"
            await asyncio.gather(*(_one(session, url, i, tally) for i in range(8)))
        assert tally.problems == []
        assert tally.ok == 8
