"""SIGTERM under load on a real `python -m ovserve` process: everything accepted completes.

REST and gRPC clients keep sending to the slow toy model (queues of several requests, each
~15 ms of work alone), the test sends SIGTERM mid-load and keeps sending. Expected:

* every request sent at least `MARGIN` s before the signal (so certainly read by the server)
  completes with the right answer: the drain finishes in-flight work;
* nothing is ever answered wrongly; a request sent after the signal is either served or
  refused cleanly (connection refused/closed, 503, gRPC UNAVAILABLE or CANCELLED);
* the process exits 0 well within `--shutdown_timeout`.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import grpc

from tests.grpc.stub import InferenceStub
from tests.reliability.process import server_process
from tests.reliability.support import grpc_answer_matches, grpc_request, rest_answer_matches, rest_body
from tests.support.toys import calibrated_rounds, write_slow_workspace

MARGIN = 0.05
REQUEST_SECONDS = 0.015  # one request alone; with 18 clients queued, each takes ~0.25 s
EXIT_WAIT_SECONDS = 25
REST_WORKERS = 12
GRPC_WORKERS = 6
JSON = {"Content-Type": "application/json"}


@dataclass
class Outcome:
    sent: float
    done: float
    result: str  # "ok", "refused" or a description of what went wrong


@dataclass
class Record:
    outcomes: list[Outcome] = field(default_factory=list)
    stop: bool = False


async def _rest_worker(port: int, seed: int, record: Record) -> None:
    async with aiohttp.ClientSession() as session:
        while not record.stop:
            body, x = rest_body(seed)
            sent = time.monotonic()
            try:
                async with session.post(
                    f"http://127.0.0.1:{port}/v2/models/slow/infer", data=body, headers=JSON
                ) as r:
                    raw = await r.read()
                    if r.status == 200:
                        result = "ok" if rest_answer_matches(raw, x) else "wrong answer"
                    else:
                        result = "refused" if r.status == 503 else f"status {r.status}: {raw[:200]!r}"
            except (aiohttp.ClientConnectionError, ConnectionError):
                result = "refused"
                await asyncio.sleep(0.01)
            record.outcomes.append(Outcome(sent, time.monotonic(), result))
            seed += 1000


async def _grpc_worker(port: int, seed: int, record: Record) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = InferenceStub(channel)
        while not record.stop:
            request, x = grpc_request(seed)
            sent = time.monotonic()
            try:
                response = await stub.ModelInfer(request, timeout=20)
                result = "ok" if grpc_answer_matches(response, x) else "wrong answer"
            except grpc.aio.AioRpcError as exc:
                # A call that reaches the port as it closes ends CANCELLED or UNAVAILABLE; the
                # accepted-request check below still requires "ok" for calls sent before the signal.
                refused = exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
                result = "refused" if refused else f"{exc.code()}: {exc.details()}"
                await asyncio.sleep(0.01)
            record.outcomes.append(Outcome(sent, time.monotonic(), result))
            seed += 1000


async def test_sigterm_under_load_finishes_every_accepted_request(tmp_path: Path) -> None:
    # Work sized in seconds, not rounds: the toy's default (~3 ms alone here) left so few
    # requests older than MARGIN in flight at the signal that the precondition below failed
    # once in CI (5); a faster CPU would make it worse. At ~15 ms: 15, with a core busy or not.
    config = write_slow_workspace(tmp_path / "ws", rounds=calibrated_rounds(REQUEST_SECONDS))
    async with server_process(config, tmp_path / "server.log", "--shutdown_timeout", "15") as server:
        process = server.process
        record = Record()
        workers = [
            asyncio.create_task(_rest_worker(server.rest_port, i, record)) for i in range(REST_WORKERS)
        ]
        workers += [
            asyncio.create_task(_grpc_worker(server.grpc_port, 100 + i, record)) for i in range(GRPC_WORKERS)
        ]
        await asyncio.sleep(1.5)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            # Longer than --shutdown_timeout, so that a drain that used all of it fails the
            # `< 10 s` check below with the server's own account of its steps.
            await asyncio.wait_for(asyncio.shield(process.wait()), timeout=EXIT_WAIT_SECONDS)
        except TimeoutError as exc:
            process.send_signal(signal.SIGUSR1)  # every thread's stack into the log
            await asyncio.sleep(1.0)
            tail = server.output()[-6000:]
            raise AssertionError(f"no exit {EXIT_WAIT_SECONDS} s after SIGTERM:\n{tail}") from exc
        exited = time.monotonic()
        await asyncio.sleep(0.3)  # let clients see the closed ports
        record.stop = True
        await asyncio.gather(*workers)
    output = server.output()
    assert process.returncode == 0, output[-3000:]
    assert exited - signalled < 10, output[-3000:]
    wrong = [o.result for o in record.outcomes if o.result not in ("ok", "refused")]
    assert wrong == [], output[-3000:]
    accepted = [o for o in record.outcomes if o.sent < signalled - MARGIN]
    assert [o for o in accepted if o.result != "ok"] == []
    in_flight = [o for o in accepted if o.done > signalled]
    # The drain really had work to finish (the workers keep a queue of several requests).
    assert len(in_flight) >= REST_WORKERS // 2, (len(in_flight), len(accepted))
    assert "shutting down" in output
