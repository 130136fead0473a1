"""One workspace with every zoo model, served by the real server with batching on: concurrent
requests to all of them over REST, each vector against its sentence-transformers reference."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from tests.rest.support import call
from tests.running import running_server
from tests.support.models import graph_dir
from tests.support.precision import F32_MIN_COSINE
from tests.support.zoo import ZOO, zoo_model
from tests.zoo.conftest import ZOO_TEXTS, zoo_workspace
from tests.zoo.test_zoo_models import REQUESTS

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

SERVED = list(ZOO)


def combined_workspace(root: Path) -> Path:
    """A workspace of every zoo model's flat fp32 export (copied: a symlink would escape it)."""
    entries = []
    for name in SERVED:
        graph = f"zoo/{name}"
        shutil.copytree(graph_dir(zoo_workspace(name, "flat"), graph), root / graph)
        entries.append({"config": {"name": graph, "base_path": graph}})
    config = root / "config.json"
    config.write_text(json.dumps({"model_config_list": entries}))
    return config


async def test_every_zoo_model_served_at_once_matches_its_reference(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    jobs = [(name, texts) for texts in (*REQUESTS, ZOO_TEXTS) for name in SERVED]
    config = combined_workspace(tmp_path)
    async with running_server(config) as server, aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{server.rest_port}/v3/embeddings"
        replies = await asyncio.gather(
            *(
                call(session, "POST", url, body={"model": f"zoo/{name}", "input": list(texts)})
                for name, texts in jobs
            )
        )
    models = {name: SentenceTransformer(str(zoo_model(name)), device="cpu") for name in SERVED}
    worst: dict[str, float] = {}
    for (name, texts), (status, body, _) in zip(jobs, replies, strict=True):
        assert status == 200, (name, body)
        got = np.array([item["embedding"] for item in body["data"]], dtype=np.float64)
        want = np.asarray(models[name].encode(list(texts)), dtype=np.float64)
        cos = (got * want).sum(axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
        worst[name] = min(worst.get(name, 1.0), float(cos.min()))
        tokens = int(models[name].tokenize(list(texts))["attention_mask"].sum())
        assert body["usage"]["prompt_tokens"] == tokens, name
    # The exports pin f32 (`--weight-format fp32`), so the f32 bound holds on every CPU.
    assert min(worst.values()) >= F32_MIN_COSINE, worst
