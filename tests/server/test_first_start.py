"""`--model_path` naming a Hugging Face folder: exported on first start, then served; the
export is cached and reused, and a changed folder exports again. Real server processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from ovserve.first_start import EXPORTS_UNDER_CACHE_DIR, fingerprint, is_hugging_face_folder
from tests.reliability.process import ServerProcess, serving
from tests.support.zoo import zoo_model

pytestmark = [pytest.mark.slow]

EXPORTING = "is a Hugging Face folder: exporting it on first start"
REUSING = "serving the first-start export of"


async def embed(server: ServerProcess, text: str, model: str = "zoo") -> list[float]:
    url = f"http://127.0.0.1:{server.rest_port}/v3/embeddings"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"model": model, "input": text}) as r,
    ):
        assert r.status == 200, await r.text()
        answer = await r.json()
    vector: list[float] = answer["data"][0]["embedding"]
    return vector


def single_model(folder: Path, cache: Path) -> tuple[str, ...]:
    return ("--model_name", "zoo", "--model_path", str(folder), "--cache_dir", str(cache))


@pytest.mark.asyncio
async def test_a_hugging_face_folder_is_exported_once_then_served_from_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "bert-mean"
    shutil.copytree(zoo_model("bert-mean"), folder)
    cache = tmp_path / "cache"
    assert is_hugging_face_folder(folder)
    async with serving(tmp_path / "first.log", *single_model(folder, cache), ready_seconds=240) as first:
        vector = await embed(first, "hello world")
    assert EXPORTING in first.output()
    assert "export: [5/5]" in first.output()  # progress, step by step
    assert (cache / EXPORTS_UNDER_CACHE_DIR / fingerprint(folder) / "graph" / "graph.pbtxt").is_file()
    # OVMS 2025's spelling: --source_model, the served name defaulting to the folder's name.
    source_model = ("--source_model", str(folder), "--cache_dir", str(cache))
    async with serving(tmp_path / "second.log", *source_model) as second:
        assert await embed(second, "hello world", model="bert-mean") == vector
    assert REUSING in second.output()
    assert EXPORTING not in second.output()
    # A changed folder (here: a file's modification time) is exported again.
    config = folder / "config.json"
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))
    async with serving(tmp_path / "third.log", *single_model(folder, cache), ready_seconds=240) as third:
        await embed(third, "hello world")
    assert EXPORTING in third.output()
    assert "Traceback" not in first.output() + second.output() + third.output()


def test_only_a_folder_with_a_config_and_nothing_servable_counts_as_hugging_face(tmp_path: Path) -> None:
    assert not is_hugging_face_folder(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    assert is_hugging_face_folder(tmp_path)
    (tmp_path / "1").mkdir()
    assert not is_hugging_face_folder(tmp_path)


def test_without_the_export_extra_start_up_stops_with_exit_1_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "bert-mean"
    shutil.copytree(zoo_model("bert-mean"), folder)
    # `import torch` fails in this process, as where the `export` extra is not installed.
    flags = ["--rest_port", "0", "--port", "1", *single_model(folder, tmp_path / "cache")]
    launcher = (
        f"import sys; sys.modules['torch'] = None; from ovserve.cli import main; sys.exit(main({flags!r}))"
    )
    result = subprocess.run([sys.executable, "-c", launcher], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "exporting it on first start needs the export extra" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "cache").rglob("graph.pbtxt"))
