"""One workspace with every zoo model, served by the real server with batching on: concurrent
requests to all of them over REST, each vector against its sentence-transformers reference.

First every model's batcher is held while mixed-length requests to all models arrive, so they
are served in merged batches for certain (checked on each batcher's history), not only when the
timing happens to merge them; then a free-running round adds requests with a `prompt_name` and
with `truncate_prompt_tokens`, and the request-field errors come back in OpenAI's shape.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest

from calculators.batching import DynamicBatcher
from calculators.feature_extraction_calculator import Extraction
from ovserve.graph import Graph
from ovserve.server import Server
from tests.rest.support import call, openai_error
from tests.running import running_server
from tests.support.models import graph_dir
from tests.support.precision import F32_MIN_COSINE
from tests.support.zoo import ZOO, zoo_model
from tests.zoo.support import ZOO_TEXTS, st_encode, st_tokens, zoo_workspace
from tests.zoo.test_zoo_models import REQUESTS

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

SERVED = list(ZOO)
# Threads enough for every held request at once (each waits in its batcher on a graph thread).
GRAPH_THREADS = 2 * len(SERVED) * len(REQUESTS)


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


def graph_of(server: Server, name: str) -> Graph:
    graph = server.repository.graph(f"zoo/{name}")
    assert isinstance(graph, Graph)
    return graph


def batcher_of(server: Server, name: str) -> DynamicBatcher[object]:
    states = graph_of(server, name).node_states().values()
    (batcher,) = [s.batcher for s in states if isinstance(s, Extraction)]
    assert batcher is not None, "batching is on by default"
    return batcher


@contextmanager
def holding(batchers: Sequence[DynamicBatcher[object]]) -> Iterator[threading.Event]:
    """Hold every batcher from a helper thread (`hold` blocks) until the yielded event is set."""
    held, release = threading.Event(), threading.Event()

    def run() -> None:
        with ExitStack() as stack:
            for batcher in batchers:
                stack.enter_context(batcher.hold())
            held.set()
            release.wait(timeout=300)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert held.wait(timeout=60)
    try:
        yield release
    finally:
        release.set()
        thread.join(timeout=60)


Job = tuple[str, tuple[str, ...], dict[str, Any]]


async def embed_all(session: aiohttp.ClientSession, url: str, jobs: Sequence[Job]) -> list[Any]:
    replies: list[Any] = await asyncio.gather(
        *(
            call(session, "POST", url, body={"model": f"zoo/{name}", "input": list(texts), **fields})
            for name, texts, fields in jobs
        )
    )
    return replies


def check(
    jobs: Sequence[Job], replies: Sequence[Any], models: dict[str, Any], worst: dict[str, float]
) -> None:
    """Each reply against `encode` with the same prompt and cut, and its token count."""
    for (name, texts, fields), (status, body, _) in zip(jobs, replies, strict=True):
        assert status == 200, (name, fields, body)
        prompt, limit = fields.get("prompt_name"), fields.get("truncate_prompt_tokens")
        got = np.array([item["embedding"] for item in body["data"]], dtype=np.float64)
        want = st_encode(models[name], texts, prompt_name=prompt, max_length=limit).astype(np.float64)
        cos = (got * want).sum(axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
        worst[name] = min(worst.get(name, 1.0), float(cos.min()))
        tokens = st_tokens(models[name], texts, prompt_name=prompt, max_length=limit)
        assert body["usage"]["prompt_tokens"] == tokens, (name, fields)


async def test_every_zoo_model_served_at_once_matches_its_reference(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    models = {name: SentenceTransformer(str(zoo_model(name)), device="cpu") for name in SERVED}
    held_jobs: list[Job] = [(name, texts, {}) for texts in REQUESTS for name in SERVED]
    free_jobs: list[Job] = [(name, ZOO_TEXTS, {}) for name in SERVED]
    free_jobs += [(name, ZOO_TEXTS, {"truncate_prompt_tokens": 9}) for name in SERVED]
    free_jobs += [
        (name, texts, {"prompt_name": prompt})
        for name in SERVED
        for prompt in ZOO[name].prompts or {}
        for texts in (ZOO_TEXTS, REQUESTS[1])
    ]
    config = combined_workspace(tmp_path)
    worst: dict[str, float] = {}
    async with (
        running_server(config, graph_threads=GRAPH_THREADS) as server,
        aiohttp.ClientSession() as session,
    ):
        url = f"http://127.0.0.1:{server.rest_port}/v3/embeddings"
        batchers = {name: batcher_of(server, name) for name in SERVED}
        before = {name: len(b.history) for name, b in batchers.items()}
        rows = {name: sum(len(texts) for n, texts, _ in held_jobs if n == name) for name in SERVED}
        graphs = {name: graph_of(server, name) for name in SERVED}
        with holding(list(batchers.values())) as release:
            sent = asyncio.ensure_future(embed_all(session, url, held_jobs))
            # Every request has reached its graph: the first job's rows wait in the held batcher,
            # the other requests at the graph's entry (the model has one infer request).
            while any(graphs[name].runs_in_flight < len(REQUESTS) for name in SERVED):
                assert not sent.done(), await sent
                await asyncio.sleep(0.01)
            release.set()
            held_replies = await sent
        for name, batcher in batchers.items():
            ran = list(batcher.history)[before[name] :]
            assert sum(ran) == rows[name], (name, ran)
            assert len(ran) < len(REQUESTS), (name, ran)  # merged across requests
        free_replies = await embed_all(session, url, free_jobs)
        unknown = await call(
            session, "POST", url, body={"model": "zoo/bert-prompts", "input": "x", "prompt_name": "no"}
        )
        bad_cut = await call(
            session, "POST", url, body={"model": "zoo/qwen3", "input": "x", "truncate_prompt_tokens": 0}
        )
    check(held_jobs, held_replies, models, worst)
    check(free_jobs, free_replies, models, worst)
    # The exports pin f32 (`--weight-format fp32`), so the f32 bound holds on every CPU.
    assert min(worst.values()) >= F32_MIN_COSINE, worst
    status, body, _ = unknown
    assert status == 400
    known = "'query', 'passage'"
    assert openai_error(body).endswith(f"prompt_name 'no' is not one of this model's prompts: {known}")
    status, body, _ = bad_cut
    assert status == 400
    assert "truncate_prompt_tokens should be -1 (the maximum length) or a positive" in openai_error(body)
