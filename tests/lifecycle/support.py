"""Shared helpers for the lifecycle tests: a watched server, toy versions, polling."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import openvino as ov
import openvino.opset13 as ops

from ovserve.lifecycle import Watcher
from ovserve.server import Server
from tests.running import running_server

POLL_SECONDS = 1
Statuses = dict[str, dict[str, list[dict[str, Any]]]]


@contextlib.asynccontextmanager
async def watched_server(config: Path, *, poll: int = POLL_SECONDS) -> AsyncIterator[Server]:
    """`running_server` with the file-system watcher polling every `poll` seconds (0: off)."""
    async with running_server(config, file_system_poll_wait_seconds=poll) as server, watching(server, poll):
        yield server


@contextlib.asynccontextmanager
async def watching(server: Server, poll: int) -> AsyncIterator[None]:
    """Make sure `server` is watched: the watcher belongs to `Server` (started in `start`);
    when the server in this tree does not start one yet, the test does, so these tests cover
    the final behaviour either way."""
    own: Watcher | None = None
    if poll and getattr(server, "watcher", None) is None:
        own = Watcher(server.reloader, poll)
        own.start()
    try:
        yield
    finally:
        if own is not None:
            await own.stop()


def write_offset_model(version_dir: Path, offset: float) -> None:
    """A tiny model `x` FP32 [-1, 4] → `y` = x + offset; the offset tells versions apart."""
    version_dir.mkdir(parents=True, exist_ok=True)
    x = ops.parameter([-1, 4], ov.Type.f32, name="x")
    y = ops.add(x, ops.constant(np.float32(offset))).output(0)
    y.get_tensor().set_names({"y"})
    ov.save_model(ov.Model([y], [x], "offset"), version_dir / "model.xml")


def write_config(
    config: Path, models: dict[str, dict[str, Any]], graphs: dict[str, str] | None = None
) -> None:
    """config.json with one entry per model (name → extra keys) and graph (name → base_path)."""
    entries = [{"config": {"name": name, "base_path": name, **extra}} for name, extra in models.items()]
    entries += [{"config": {"name": name, "base_path": base}} for name, base in (graphs or {}).items()]
    config.write_text(json.dumps({"model_config_list": entries}, indent=1))


async def infer_offset(
    session: aiohttp.ClientSession, port: int | None, model: str
) -> tuple[int, str, float]:
    """KServe REST inference on an offset model: (HTTP status, version or error, offset)."""
    body = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [0.0, 0.0, 0.0, 0.0]}]}
    async with session.post(f"http://127.0.0.1:{port}/v2/models/{model}/infer", json=body) as response:
        answer = await response.json()
    if response.status != 200:
        return response.status, str(answer.get("error")), float("nan")
    return 200, str(answer["model_version"]), float(answer["outputs"][0]["data"][0])


async def get_statuses(session: aiohttp.ClientSession, port: int | None) -> Statuses:
    async with session.get(f"http://127.0.0.1:{port}/v1/config") as response:
        assert response.status == 200
        body: Statuses = await response.json()
        return body


def states(body: Statuses, name: str) -> dict[str, str]:
    """version → state of one servable in a `/v1/config` body ({} when absent)."""
    if name not in body:
        return {}
    return {s["version"]: s["state"] for s in body[name]["model_version_status"]}


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float, step: float = 0.1) -> float:
    """Poll `check` until it is true; return the seconds it took. Fails after `within` seconds."""
    start = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - start
        if time.monotonic() - start > within:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(step)
