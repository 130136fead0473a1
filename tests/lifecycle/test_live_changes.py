"""Issue 7 acceptance: live changes under a steady stream of REST and gRPC requests.

An int8 workspace is served; the fp32 export's embeddings model is copied in as version 2
(its vectors differ measurably), then version 1 is removed, then an invalid config is written,
then a second graph is added, and finally removed again. Not one request may fail.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import grpc
import numpy as np
import numpy.typing as npt
import pytest

from tests.grpc.stub import InferenceStub
from tests.grpc.support import EMBEDDINGS, GRAPH, output_array, rpc_error, texts_request
from tests.lifecycle.support import POLL_SECONDS, Statuses, eventually, get_statuses, states, watched_server
from tests.support.models import copy_workspace, exported_workspace, graph_dir

pytestmark = pytest.mark.slow

TEXT = "The quick brown fox jumps over the lazy dog"
SECOND = "second-graph"
# One poll (plus the watcher's 0.25 s settle pause) to see the copy; compiling and warming up
# MiniLM fp32 takes 1-2 s more on 2 busy cores, the graph reload ~0.1 s (its tokenizer is
# cached). Measured from copy to switched answers: 2.2-3.6 s.
SWITCH_SECONDS = 2 * POLL_SECONDS + 3.0

Vector = npt.NDArray[np.float32]


@dataclass
class Load:
    """Answers of the steady request stream: (monotonic time, vector) and every failure."""

    answers: list[tuple[float, Vector]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def rest_client(load: Load, session: aiohttp.ClientSession, port: int | None) -> None:
    url = f"http://127.0.0.1:{port}/v3/embeddings"
    while not load.stop.is_set():
        async with session.post(url, json={"model": GRAPH, "input": [TEXT]}) as response:
            body = await response.json()
        if response.status != 200:
            load.failures.append(f"REST {response.status}: {body}")
            continue
        load.answers.append((time.monotonic(), np.asarray(body["data"][0]["embedding"], dtype=np.float32)))


async def grpc_client(load: Load, stub: InferenceStub) -> None:
    while not load.stop.is_set():
        try:
            response = await stub.ModelInfer(texts_request(GRAPH, [TEXT], raw=True))
        except grpc.aio.AioRpcError as exc:
            load.failures.append(f"gRPC {exc.code()}: {exc.details()}")
            continue
        load.answers.append((time.monotonic(), output_array(response, "output")[0].astype(np.float32)))


def same(a: Vector, b: Vector) -> bool:
    # Batching pads requests together, which moves the last digits only.
    return float(np.max(np.abs(a - b))) < 1e-4


def write_second_graph(config: Path) -> None:
    """A graph that reuses the first graph's models (they are global servables)."""
    second = config.parent / SECOND
    second.mkdir()
    shutil.copy(graph_dir(config) / "graph.pbtxt", second / "graph.pbtxt")
    body = json.loads(config.read_text())
    body["model_config_list"].append({"config": {"name": SECOND, "base_path": SECOND}})
    config.write_text(json.dumps(body))


async def test_live_changes_under_load_fail_no_request(tmp_path: Path) -> None:
    config = copy_workspace(exported_workspace("int8"), tmp_path / "ws")
    fp32_embeddings = graph_dir(exported_workspace("fp32")) / "embeddings" / "1"
    valid_config = config.read_text()
    history: list[Statuses] = []
    seen_at: list[float] = []  # when each `history` entry was read
    load = Load()
    async with (
        watched_server(config) as server,
        aiohttp.ClientSession() as session,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        port = server.rest_port
        stub = InferenceStub(channel)

        async def observe() -> None:
            while not load.stop.is_set():
                body = await get_statuses(session, port)
                seen_at.append(time.monotonic())
                history.append(body)
                await asyncio.sleep(0.05)

        tasks = [asyncio.create_task(rest_client(load, session, port)) for _ in range(3)]
        tasks += [asyncio.create_task(grpc_client(load, stub)) for _ in range(2)]
        tasks.append(asyncio.create_task(observe()))
        try:
            await eventually(lambda: _true(len(load.answers) >= 10), within=30)
            v1 = load.answers[0][1]

            # 1. Version 2 (fp32) is copied in: answers switch after one poll + load time.
            # A request still running on version 1 (a lease held here) keeps it UNLOADING after
            # the swap until it returns, so the state with both versions shown lasts until the
            # lease is released. Without one it lasts only as long as version 1's last requests,
            # which on a fast CPU fell between two polls of the observer.
            with server.repository.models.lease(EMBEDDINGS, 1):
                shutil.copytree(fp32_embeddings, graph_dir(config) / "embeddings" / "2")
                copied = time.monotonic()
                switch = await eventually(
                    lambda: _true(not same(load.answers[-1][1], v1)), within=SWITCH_SECONDS
                )
                v2 = load.answers[-1][1]
                # The watcher noticed the settled copy (v2 shown, loading or loaded) within one
                # poll; the rest of `switch` is compiling and warming up the model and reloading
                # the graph.
                noticed = next(
                    at for at, body in zip(seen_at, history, strict=True) if "2" in states(body, EMBEDDINGS)
                )
                assert noticed - copied <= POLL_SECONDS + 1.0, (noticed - copied, switch)
                assert float(np.max(np.abs(v1 - v2))) > 1e-3
                await eventually(
                    lambda: _statuses_are(history, EMBEDDINGS, {"1": "UNLOADING", "2": "AVAILABLE"}),
                    within=5,
                )
            await eventually(
                lambda: _statuses_are(history, EMBEDDINGS, {"1": "END", "2": "AVAILABLE"}), within=5
            )
            await asyncio.sleep(1.0)
            later = [vector for at, vector in load.answers if at > copied + switch + 0.5]
            assert later
            assert all(same(vector, v2) for vector in later)

            # 2. Version 1 is removed: it stays END, version 2 keeps serving.
            shutil.rmtree(graph_dir(config) / "embeddings" / "1")
            await asyncio.sleep(2 * POLL_SECONDS)
            assert states(await get_statuses(session, port), EMBEDDINGS) == {"1": "END", "2": "AVAILABLE"}

            # 3. An invalid config: nothing changes; the reload endpoint says why.
            before = await get_statuses(session, port)
            config.write_text('{"model_config_list": [{"config": ')
            await asyncio.sleep(2 * POLL_SECONDS)
            assert await get_statuses(session, port) == before
            async with session.post(f"http://127.0.0.1:{port}/v1/config/reload") as response:
                assert response.status == 412
                assert "Reloading config file failed" in (await response.json())["error"]

            # 4. A valid config with a second graph: it serves without a restart.
            config.write_text(valid_config)
            write_second_graph(config)
            await eventually(
                lambda: _statuses_are(history, SECOND, {"1": "AVAILABLE"}), within=SWITCH_SECONDS
            )
            assert same(await embed(session, port, SECOND), v2)

            # 4b. Its graph.pbtxt changes: a broken edit keeps the previous definition serving
            # and says why; a valid edit (no normalization) is picked up by content hash.
            second_graph = config.parent / SECOND / "graph.pbtxt"
            original = second_graph.read_text()
            second_graph.write_text(original.replace("EmbeddingsCalculator", "NoSuchCalculator", 1))

            async def reported() -> bool:
                (state,) = (await get_statuses(session, port))[SECOND]["model_version_status"]
                return bool(state["state"] == "AVAILABLE" and state["status"]["error_code"] != "OK")

            await eventually(reported, within=SWITCH_SECONDS)
            assert same(await embed(session, port, SECOND), v2)
            second_graph.write_text(
                original.replace("normalize_embeddings: true", "normalize_embeddings: false")
            )

            async def unnormalized() -> bool:
                return abs(float(np.linalg.norm(await embed(session, port, SECOND))) - 1.0) > 1e-3

            await eventually(unnormalized, within=SWITCH_SECONDS)

            # 5. Removed again: retired, with OVMS's answers on both protocols.
            config.write_text(valid_config)
            await eventually(lambda: _statuses_are(history, SECOND, {"1": "END"}), within=SWITCH_SECONDS)
            async with session.post(
                f"http://127.0.0.1:{port}/v3/embeddings", json={"model": SECOND, "input": [TEXT]}
            ) as response:
                assert (response.status, _error_text(await response.json())) == (404, "Mediapipe is retired")
            error = await rpc_error(stub.ModelInfer(texts_request(SECOND, [TEXT], raw=True)))
            assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Mediapipe is retired")
        finally:
            load.stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
    assert load.failures == []
    # /v1/config showed each transition of the embeddings model, in order.
    seen = _distinct([states(body, EMBEDDINGS) for body in history])
    assert seen[0] == {"1": "AVAILABLE"}
    assert seen[-1] == {"1": "END", "2": "AVAILABLE"}
    assert any(s.get("2") == "AVAILABLE" and s.get("1") in ("AVAILABLE", "UNLOADING") for s in seen), seen
    assert _distinct([states(body, SECOND) for body in history if SECOND in body])[-1] == {"1": "END"}


async def embed(session: aiohttp.ClientSession, port: int | None, model: str) -> Vector:
    async with session.post(
        f"http://127.0.0.1:{port}/v3/embeddings", json={"model": model, "input": [TEXT]}
    ) as response:
        body = await response.json()
        assert response.status == 200, body
        return np.asarray(body["data"][0]["embedding"], dtype=np.float32)


def _error_text(body: dict[str, object]) -> object:
    """The message of an OVMS (`{"error": "..."}`) or OpenAI (`{"error": {"message": ...}}`) body."""
    error = body["error"]
    return error.get("message") if isinstance(error, dict) else error


async def _true(value: bool) -> bool:
    return value


async def _statuses_are(history: list[Statuses], name: str, expected: dict[str, str]) -> bool:
    return bool(history) and states(history[-1], name) == expected


def _distinct(items: list[dict[str, str]]) -> list[dict[str, str]]:
    result: list[dict[str, str]] = []
    for item in items:
        if not result or result[-1] != item:
            result.append(item)
    return result
