"""Version directories appearing, disappearing and arriving half-written, on tiny models.

The watcher polls every second; a new directory is loaded once two looks, 0.25 s apart within
one poll, saw it unchanged.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest

from ovserve.config import ServerConfig
from ovserve.server import Server
from tests.lifecycle.support import (
    POLL_SECONDS,
    eventually,
    get_statuses,
    infer_offset,
    states,
    watched_server,
    watching,
    write_config,
    write_offset_model,
)

pytestmark = pytest.mark.slow

# Seen within one poll, settled 0.25 s later, then loaded; slack for a loaded CI machine.
SWITCH_SECONDS = 2 * POLL_SECONDS + 2.0


def toy_workspace(root: Path, versions: dict[int, float], **extra: object) -> Path:
    for version, offset in versions.items():
        write_offset_model(root / "m" / str(version), offset)
    config = root / "config.json"
    write_config(config, {"m": dict(extra)})
    return config


async def test_a_new_version_takes_over_and_the_old_one_ends(tmp_path: Path) -> None:
    config = toy_workspace(tmp_path, {1: 1.0})
    async with watched_server(config) as server, aiohttp.ClientSession() as session:
        port = server.rest_port
        assert await infer_offset(session, port, "m") == (200, "1", 1.0)
        staging = tmp_path / "staging"
        write_offset_model(staging, 2.0)
        shutil.move(staging, tmp_path / "m" / "2")

        async def switched() -> bool:
            return (await infer_offset(session, port, "m"))[1] == "2"

        await eventually(switched, within=SWITCH_SECONDS)
        assert states(await get_statuses(session, port), "m") == {"1": "END", "2": "AVAILABLE"}
        assert await infer_offset(session, port, "m") == (200, "2", 2.0)
        # Versioned requests: the retired one says so, as OVMS does.
        assert (await infer_offset(session, port, "m/versions/1"))[:2] == (
            404,
            "Model with requested version is retired",
        )
        # Removing the served version falls back to nothing newer: the model is retired.
        shutil.rmtree(tmp_path / "m" / "2")
        shutil.rmtree(tmp_path / "m" / "1")

        async def retired() -> bool:
            return states(await get_statuses(session, port), "m") == {"1": "END", "2": "END"}

        await eventually(retired, within=SWITCH_SECONDS)
        assert (await infer_offset(session, port, "m"))[:2] == (
            404,
            "Model with requested version is retired",
        )


async def test_half_written_and_corrupt_versions_are_never_served(tmp_path: Path) -> None:
    config = toy_workspace(tmp_path, {1: 1.0})
    complete = tmp_path / "complete"
    write_offset_model(complete, 3.0)
    seen: list[tuple[int, str, float]] = []
    async with watched_server(config) as server, aiohttp.ClientSession() as session:
        port = server.rest_port
        stop = asyncio.Event()

        async def client() -> None:
            while not stop.is_set():
                seen.append(await infer_offset(session, port, "m"))
                await asyncio.sleep(0.02)

        clients = [asyncio.create_task(client()) for _ in range(3)]
        # Version 2: a corrupt model.xml. It is tried, fails, is reported, never served.
        (tmp_path / "m" / "2").mkdir()
        (tmp_path / "m" / "2" / "model.xml").write_text("<net><layers><layer id=")

        async def reported() -> bool:
            status = (await get_statuses(session, port))["m"]["model_version_status"]
            return any(s["version"] == "2" and s["status"]["error_code"] == "UNKNOWN" for s in status)

        await eventually(reported, within=SWITCH_SECONDS)
        # Version 3: copied slowly, a chunk every 0.3 s, so no two polls see the same listing.
        target = tmp_path / "m" / "3"
        target.mkdir()
        xml = (complete / "model.xml").read_bytes()
        blob = (complete / "model.bin").read_bytes()
        steps = 12
        for i in range(1, steps + 1):
            (target / "model.xml").write_bytes(xml[: len(xml) * i // steps])
            (target / "model.bin").write_bytes(blob[: len(blob) * i // steps])
            await asyncio.sleep(0.3)
        copied = len(seen)

        async def switched() -> bool:
            return bool(seen) and seen[-1][1] == "3"

        await eventually(switched, within=SWITCH_SECONDS)
        stop.set()
        await asyncio.gather(*clients)
    failures = [answer for answer in seen if answer[0] != 200]
    assert failures == []
    assert {answer[1] for answer in seen[:copied]} == {"1"}, "a version was served before its copy ended"
    assert {answer[2] for answer in seen if answer[1] == "3"} == {3.0}


async def test_latest_falls_back_when_the_newest_version_fails(tmp_path: Path) -> None:
    config = toy_workspace(tmp_path, {1: 1.0, 2: 2.0})
    (tmp_path / "m" / "3").mkdir()
    (tmp_path / "m" / "3" / "model.xml").write_text("not xml at all")
    async with watched_server(config, poll=0) as server, aiohttp.ClientSession() as session:
        port = server.rest_port
        assert states(await get_statuses(session, port), "m") == {"2": "AVAILABLE", "3": "LOADING"}
        assert await infer_offset(session, port, "m") == (200, "2", 2.0)


@pytest.mark.parametrize(
    ("policy", "served"),
    [
        ({"latest": {"num_versions": 2}}, {"2": "AVAILABLE", "3": "AVAILABLE"}),
        ({"specific": {"versions": [1, 3]}}, {"1": "AVAILABLE", "3": "AVAILABLE"}),
        ({"all": {}}, {"1": "AVAILABLE", "2": "AVAILABLE", "3": "AVAILABLE"}),
    ],
)
async def test_version_policies(tmp_path: Path, policy: dict[str, object], served: dict[str, str]) -> None:
    config = toy_workspace(tmp_path, {1: 1.0, 2: 2.0, 3: 3.0}, model_version_policy=policy)
    async with watched_server(config, poll=0) as server, aiohttp.ClientSession() as session:
        port = server.rest_port
        assert states(await get_statuses(session, port), "m") == served
        # Without a version: the highest AVAILABLE one.
        assert await infer_offset(session, port, "m") == (200, "3", 3.0)
        for version in served:
            assert (await infer_offset(session, port, f"m/versions/{version}"))[1] == version


async def test_single_model_mode_watches_versions_too(tmp_path: Path) -> None:
    write_offset_model(tmp_path / "m" / "1", 1.0)
    config = ServerConfig(
        rest_port=0, model_name="m", model_path=tmp_path / "m", file_system_poll_wait_seconds=POLL_SECONDS
    )
    async with Server(config) as server, watching(server, POLL_SECONDS), aiohttp.ClientSession() as session:
        await server.wait_ready()
        port = server.rest_port
        assert await infer_offset(session, port, "m") == (200, "1", 1.0)
        write_offset_model(tmp_path / "m" / "2", 2.0)

        async def switched() -> bool:
            return await infer_offset(session, port, "m") == (200, "2", 2.0)

        await eventually(switched, within=SWITCH_SECONDS)


async def test_a_stalled_copy_fails_is_reported_and_loads_once_complete(tmp_path: Path) -> None:
    config = toy_workspace(tmp_path, {1: 1.0})
    complete = tmp_path / "complete"
    write_offset_model(complete, 2.0)
    async with watched_server(config) as server, aiohttp.ClientSession() as session:
        port = server.rest_port
        # The copy stalls with model.xml complete and model.bin cut short: it settles, is tried,
        # fails (weights out of range), and version 1 keeps serving.
        target = tmp_path / "m" / "2"
        target.mkdir()
        shutil.copy(complete / "model.xml", target / "model.xml")
        blob = (complete / "model.bin").read_bytes()
        (target / "model.bin").write_bytes(blob[: len(blob) // 2])

        async def reported() -> bool:
            status = (await get_statuses(session, port))["m"]["model_version_status"]
            return any(s["version"] == "2" and s["status"]["error_code"] == "UNKNOWN" for s in status)

        await eventually(reported, within=SWITCH_SECONDS)
        assert await infer_offset(session, port, "m") == (200, "1", 1.0)
        # The copy resumes: the changed directory is tried again and takes over.
        (target / "model.bin").write_bytes(blob)

        async def switched() -> bool:
            return await infer_offset(session, port, "m") == (200, "2", 2.0)

        await eventually(switched, within=SWITCH_SECONDS)
