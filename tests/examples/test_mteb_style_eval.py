"""`examples/mteb_style_eval`: the MTEB-style encoder and the bundled retrieval evaluation."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import os
import re
import socket
import subprocess
import sys
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from openai import OpenAI

from tests.running import running_server
from tests.support.models import DEFAULT_GRAPH_NAME, REPO_ROOT, exported_workspace

SCRIPT = REPO_ROOT / "examples" / "mteb_style_eval" / "evaluate.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mteb_style_eval_example", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


example: Any = load_example()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    dead = f"http://127.0.0.1:{closed_port()}"
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, ALL_PROXY=dead, NO_PROXY="127.0.0.1,localhost")
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def summary(stdout: str) -> dict[str, tuple[float, float]]:
    """metric -> (model, tf-idf) from the example's closing table."""
    rows = re.findall(r"^(\S+@\d+) +([\d.]+) +([\d.]+)$", stdout, flags=re.MULTILINE)
    return {name: (float(model), float(tfidf)) for name, model, tfidf in rows}


@pytest.mark.slow
async def test_the_bundled_evaluation_scores_above_the_measured_floor() -> None:
    async with running_server(exported_workspace()) as server:
        url = f"http://127.0.0.1:{server.rest_port}/v3"
        result = await asyncio.to_thread(run_example, "--url", url, "--per_query")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # 20 documents and 10 queries in requests of at most 8 texts: 3 + 2 requests.
    assert "20 documents, 10 queries, 5 requests of at most 8 texts" in result.stdout
    assert len(re.findall(r"^q\d\d ", result.stdout, flags=re.MULTILINE)) == 10
    scores = summary(result.stdout)
    assert set(scores) == {"nDCG@10", "Recall@1", "Recall@3", "Recall@10", "MRR@10"}
    model = {name: value for name, (value, _) in scores.items()}
    tfidf = {name: value for name, (_, value) in scores.items()}
    # Measured with the int8 export of `make serve`: nDCG@10 0.9627, Recall@1 0.75, Recall@3 0.90,
    # Recall@10 1.0, MRR@10 1.0. The floors leave room for other CPUs' rounding, not for a wrong model.
    assert model["nDCG@10"] > 0.90, result.stdout
    assert model["Recall@3"] >= 0.80, result.stdout
    assert model["Recall@10"] == 1.0, result.stdout
    assert model["MRR@10"] >= 0.90, result.stdout
    # The word-overlap reference needs no server and is exact; the model must clear it by far.
    assert tfidf == {
        "nDCG@10": 0.6686,
        "Recall@1": 0.35,
        "Recall@3": 0.7,
        "Recall@10": 0.85,
        "MRR@10": 0.6583,
    }
    assert model["nDCG@10"] > tfidf["nDCG@10"] + 0.2


@pytest.mark.slow
async def test_encode_batches_and_decodes_base64_to_the_float_vectors() -> None:
    texts = [f"sentence number {i}" for i in range(7)] + ["", "数据库"]
    async with running_server(exported_workspace()) as server:
        url = f"http://127.0.0.1:{server.rest_port}/v3"
        encoder = example.OpenAIEncoder(url, DEFAULT_GRAPH_NAME, batch_size=4)
        vectors = await asyncio.to_thread(encoder.encode, texts, prompt_name="ignored")
        by_query = await asyncio.to_thread(encoder.encode_queries, texts[:2], batch_size=1)
        corpus = await asyncio.to_thread(encoder.encode_corpus, [{"title": "sentence", "text": "number 0"}])
        client = OpenAI(base_url=url, api_key="unused")
        response = await asyncio.to_thread(
            client.embeddings.create, input=texts, model=DEFAULT_GRAPH_NAME, encoding_format="float"
        )

    assert vectors.dtype == np.float32
    assert vectors.shape == (9, 384)
    assert encoder.requests == 3 + 2 + 1  # 9 texts by 4, 2 queries by 1, one document
    floats = np.array([item.embedding for item in response.data], dtype=np.float32)
    np.testing.assert_allclose(vectors, floats, rtol=0, atol=1e-6)
    np.testing.assert_allclose(by_query, floats[:2], rtol=0, atol=1e-6)
    np.testing.assert_allclose(corpus[0], floats[0], rtol=0, atol=1e-6)  # "title text" joined with a space


def test_metrics_match_hand_computed_values() -> None:
    relevant = {"a": 2, "b": 1}
    ranking = ["x", "a", "y", "b"]
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert example.ndcg_at(ranking, relevant, 10) == pytest.approx(dcg / idcg)
    assert example.ndcg_at(["a", "b"], relevant, 10) == pytest.approx(1.0)
    assert example.ndcg_at(ranking, relevant, 1) == 0.0
    assert example.recall_at(ranking, relevant, 1) == 0.0
    assert example.recall_at(ranking, relevant, 2) == 0.5
    assert example.recall_at(ranking, relevant, 4) == 1.0
    assert example.mrr_at(ranking, relevant, 10) == 0.5
    assert example.mrr_at(ranking, relevant, 1) == 0.0


def test_the_bundled_task_is_complete() -> None:
    task = example.load_task(SCRIPT.parent / "data")
    assert len(task.corpus) == 20
    assert len(task.queries) == 10
    assert set(task.qrels) == set(task.queries)
    assert all(doc in task.corpus for judged in task.qrels.values() for doc in judged)


def test_an_unreachable_server_is_one_line_not_a_traceback() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v3"
    result = run_example("--url", url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: cannot reach {url}: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
