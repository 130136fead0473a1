"""Every zoo architecture, exported and served through the real graph, against sentence-transformers.

For each model (`tests.support.zoo`): `SentenceTransformer(folder).encode(texts)` is the
reference; the served vectors must match it within what the compiled model runs (fp32
exports pin f32, so min cos >= 0.99999) one text per request, in one multi-text request (in
both layouts), and in merged batches of concurrent requests of mixed lengths. The token counts
must be the tokens the model saw (sentence-transformers' tokenization) and `/v3/tokenize` the
Hugging Face tokenizer's ids.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from calculators.batching import DynamicBatcher
from calculators.feature_extraction_calculator import Extraction
from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsRequest, EmbeddingsResult
from ovserve.graph.formats.tokenize import TokenizeBody, TokenizeResult
from ovserve.graph.runner import Graph
from tests.calculators.support import LONG_TEXT, cosines, embed, load_workspace_graph, run_graph
from tests.support.precision import execution_of, min_cosine_against_reference
from tests.zoo.support import ZOO_TEXTS, ZooCase, st_tokens, zoo_workspace

pytestmark = pytest.mark.slow

REQUESTS: tuple[tuple[str, ...], ...] = (
    ("Short",),
    ("Hello, world!", LONG_TEXT),
    ("The quick brown fox jumps over the lazy dog.",),
    ("a " * 300,),
    (ZOO_TEXTS[3], ZOO_TEXTS[4], ZOO_TEXTS[8]),
    ("",),
    ("Sentence embeddings map text to vectors.", "UPPER lower MiXeD case", "   "),
    ("What is the capital of France? Paris is.", "word " * 40),
)


def expect_right_vectors(zoo: ZooCase) -> float:
    """The minimum cosine the graph's execution allows (which must be exact: f32 is pinned)."""
    execution = execution_of(zoo.graph)
    assert execution.exact, f"fp32 exports pin f32: {execution}"
    return min_cosine_against_reference(execution)


def assert_close(name: str, got: np.ndarray, want: np.ndarray, bound: float, texts: Sequence[str]) -> None:
    assert got.shape == want.shape, (name, got.shape, want.shape)
    with np.errstate(invalid="ignore", divide="ignore"):  # a zero or NaN vector is reported below
        found = cosines(got, want)
    bad = {texts[i][:24]: round(float(c), 6) for i, c in enumerate(found) if not c >= bound}
    assert not bad, f"{name}: min cos {np.nanmin(found):.6f} (NaN: {int(np.isnan(found).sum())}); {bad}"


def test_each_text_alone_matches_sentence_transformers(zoo: ZooCase) -> None:
    bound = expect_right_vectors(zoo)
    alone = np.concatenate([embed(zoo.graph, (text,)).embeddings for text in ZOO_TEXTS])
    assert_close(zoo.name, alone, zoo.reference, bound, ZOO_TEXTS)


def test_one_request_of_every_text_matches_sentence_transformers(zoo: ZooCase) -> None:
    bound = expect_right_vectors(zoo)
    result = embed(zoo.graph, ZOO_TEXTS)
    assert np.isfinite(result.embeddings).all()
    assert_close(zoo.name, result.embeddings, zoo.reference, bound, ZOO_TEXTS)


def test_the_versioned_layout_serves_the_same_vectors(zoo: ZooCase) -> None:
    bound = expect_right_vectors(zoo)
    graph, _ = load_workspace_graph(zoo_workspace(zoo.name, "versioned"))
    try:
        assert execution_of(graph).exact
        result = embed(graph, ZOO_TEXTS)
    finally:
        graph.close()
    assert_close(zoo.name, result.embeddings, zoo.reference, bound, ZOO_TEXTS)
    assert result.prompt_tokens == embed(zoo.graph, ZOO_TEXTS).prompt_tokens


def batcher_of(graph: Graph) -> DynamicBatcher[object]:
    (batcher,) = [s.batcher for s in graph.node_states().values() if isinstance(s, Extraction)]
    assert batcher is not None, "batching is on by default"
    return batcher


def run_merged(graph: Graph, requests: Sequence[Sequence[str] | EmbeddingsInput]) -> list[EmbeddingsResult]:
    """Run every request (texts, or documents with their options) on its own thread while the
    batcher is held, so they merge."""
    results: list[EmbeddingsResult | BaseException] = [RuntimeError("not run")] * len(requests)
    inputs = [r if isinstance(r, EmbeddingsInput) else EmbeddingsInput(texts=tuple(r)) for r in requests]

    def one(i: int) -> None:
        try:
            results[i] = run_graph(graph, EmbeddingsRequest(input=inputs[i]))
        except BaseException as exc:
            results[i] = exc

    batcher = batcher_of(graph)
    before = len(batcher.history)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    with batcher.hold():
        for t in threads:
            t.start()
        while batcher.pending_rows < sum(len(r) for r in inputs):
            threading.Event().wait(0.005)
    for t in threads:
        t.join(timeout=120)
    ran = list(batcher.history)[before:]
    assert sum(ran) == sum(len(r) for r in inputs), ran
    assert len(ran) < len(requests), ran
    done = [r for r in results if isinstance(r, EmbeddingsResult)]
    assert len(done) == len(results), results
    return done


def test_merged_batches_of_concurrent_requests_match_sentence_transformers(zoo: ZooCase) -> None:
    bound = expect_right_vectors(zoo)
    results = run_merged(zoo.graph, REQUESTS)
    texts = [text for texts in REQUESTS for text in texts]
    got = np.concatenate([r.embeddings for r in results])
    assert_close(zoo.name, got, np.asarray(zoo.model.encode(texts), dtype=np.float32), bound, texts)
    for texts_of, result in zip(REQUESTS, results, strict=True):
        assert result.prompt_tokens == st_tokens(zoo.model, texts_of)


def test_prompt_tokens_are_the_tokens_sentence_transformers_feeds_the_model(zoo: ZooCase) -> None:
    # st_tokens applies the model's default prompt, as encode does (bert-prompts has one).
    assert embed(zoo.graph, ZOO_TEXTS).prompt_tokens == st_tokens(zoo.model, ZOO_TEXTS)
    for text in ZOO_TEXTS:
        assert embed(zoo.graph, (text,)).prompt_tokens == st_tokens(zoo.model, [text])


def tokenize(graph: Graph, body: dict[str, object]) -> list[list[int]]:
    result = graph.run_sync({"input": TokenizeBody(body)})["output"]
    assert isinstance(result, TokenizeResult)
    return [list(row) for row in result.tokens]


@pytest.mark.parametrize("options", [{}, {"max_length": 16}, {"max_length": 16, "add_special_tokens": False}])
def test_tokenize_gives_the_hugging_face_ids(zoo: ZooCase, options: dict[str, object]) -> None:
    hf_options: dict[str, object] = dict(options)
    if "max_length" in options:
        hf_options["truncation"] = True
    want = zoo.hf_tokenizer(list(ZOO_TEXTS), **hf_options)["input_ids"]
    assert tokenize(zoo.graph, {"text": list(ZOO_TEXTS), **options}) == want
