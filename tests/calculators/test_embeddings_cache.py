"""The embedding cache (`calculators.embeddings_cache`) in the graph an OVMS form expands into:
cached answers equal the vectors inference returned, in request order with the same usage; it
is bounded, keyed on the request's options, absent when off, and a new graph starts empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from calculators.embeddings_cache import ENTRY_OVERHEAD_BYTES, VectorCache
from ovserve.graph import EMBEDDING_CACHE_MIB, GraphServices
from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsRequest, EmbeddingsResult
from ovserve.graph.formats.text_options import TextOptions
from ovserve.graph.runner import Graph
from tests.calculators.support import load_workspace_graph, run_graph
from tests.support.models import exported_workspace

pytestmark = pytest.mark.slow

TEXTS = ("hello world", "a cached sentence", "another one", "hello world")


def request(
    texts: tuple[str, ...] = (), ids: tuple[tuple[int, ...], ...] = (), cut: int | None = None
) -> EmbeddingsRequest:
    options = TextOptions(truncate_prompt_tokens=cut)
    return EmbeddingsRequest(input=EmbeddingsInput(texts=texts, token_ids=ids, options=options))


@pytest.fixture(scope="module")
def workspace() -> Path:
    # f32 pinned (the fp32 export): a text embeds to the same vector alone or in any batch, so
    # the cached answers can be compared exactly with an uncached graph's.
    return exported_workspace("fp32")


@pytest.fixture(scope="module")
def cached(workspace: Path) -> Iterator[Graph]:
    graph, _ = load_workspace_graph(workspace, services=GraphServices.of((EMBEDDING_CACHE_MIB, 4)))
    yield graph
    graph.close()


@pytest.fixture(scope="module")
def uncached(workspace: Path) -> Iterator[Graph]:
    graph, _ = load_workspace_graph(workspace)
    yield graph
    graph.close()


def counts(graph: Graph) -> tuple[int, int]:
    cache = graph.stats().cache
    assert cache is not None
    return cache.hits, cache.misses


def test_the_cache_is_off_by_default(uncached: Graph) -> None:
    assert uncached.stats().cache is None
    assert not any("Cache" in node.calculator for node in uncached.validated.nodes)


def test_repeated_documents_are_answered_from_the_cache_with_inferences_vectors_and_usage(
    cached: Graph, uncached: Graph
) -> None:
    first = run_graph(cached, request(TEXTS))
    hits, misses = counts(cached)
    again = run_graph(cached, request(TEXTS))
    mixed = run_graph(cached, request(("new text", *TEXTS[:2], "another new one")))
    reference = run_graph(uncached, request(TEXTS))
    assert np.array_equal(first.embeddings, reference.embeddings)
    assert np.array_equal(again.embeddings, first.embeddings)
    assert again.prompt_tokens == first.prompt_tokens == reference.prompt_tokens
    assert counts(cached) == (hits + len(TEXTS) + 2, misses + 2)
    expected = run_graph(uncached, request(("new text", *TEXTS[:2], "another new one")))
    assert np.array_equal(mixed.embeddings, expected.embeddings)
    assert mixed.prompt_tokens == expected.prompt_tokens


def test_request_options_and_token_ids_are_part_of_the_key(cached: Graph, uncached: Graph) -> None:
    long_text = " ".join(["word"] * 40)
    whole = run_graph(cached, request((long_text,)))
    cut = run_graph(cached, request((long_text,), cut=8))
    assert cut.prompt_tokens == 8 < whole.prompt_tokens
    assert not np.array_equal(cut.embeddings, whole.embeddings)
    assert np.array_equal(cut.embeddings, run_graph(uncached, request((long_text,), cut=8)).embeddings)
    ids = ((101, 7592, 2088, 102),)
    by_ids = run_graph(cached, request(ids=ids))
    assert np.array_equal(run_graph(cached, request(ids=ids)).embeddings, by_ids.embeddings)
    assert by_ids.prompt_tokens == 4


def test_the_tokenize_branch_passes_the_cache_by(cached: Graph) -> None:
    from ovserve.graph.formats.tokenize import TokenizeBody, TokenizeResult

    result = cached.run_sync({"input": TokenizeBody({"text": "hello world"})})["output"]
    assert isinstance(result, TokenizeResult)


def test_a_reloaded_graph_starts_with_an_empty_cache(workspace: Path, cached: Graph) -> None:
    run_graph(cached, request(TEXTS))
    graph, _ = load_workspace_graph(workspace, services=GraphServices.of((EMBEDDING_CACHE_MIB, 4)))
    try:
        assert counts(graph) == (0, 0)
        run_graph(graph, request(TEXTS[:1]))
        assert counts(graph) == (0, 1)
    finally:
        graph.close()


def test_the_cache_stays_within_its_bytes_evicting_the_least_recently_used() -> None:
    vector = np.ones(384, dtype=np.float32)
    entry = vector.nbytes + len("text 0") + ENTRY_OVERHEAD_BYTES
    cache = VectorCache(capacity_bytes=3 * entry)
    for i in range(3):
        cache.put(("text", f"text {i}", None, None, None), vector, 3)
    assert cache.get(("text", "text 0", None, None, None)) is not None  # now the most recent
    cache.put(("text", "text 3", None, None, None), vector, 3)
    assert cache.get(("text", "text 1", None, None, None)) is None
    assert cache.get(("text", "text 0", None, None, None)) is not None
    assert cache.counts().bytes <= cache.capacity_bytes
    assert cache.counts().entries == 3
    huge = np.ones(10_000, dtype=np.float32)
    cache.put(("text", "huge", None, None, None), huge, 1)
    assert cache.get(("text", "huge", None, None, None)) is None


def test_a_cached_vector_cannot_be_changed_through_an_answer() -> None:
    cache = VectorCache(capacity_bytes=1 << 20)
    vector = np.ones(4, dtype=np.float32)
    cache.put(("text", "x", None, None, None), vector, 1)
    vector[0] = 5.0
    found = cache.get(("text", "x", None, None, None))
    assert found is not None
    assert found[0][0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        found[0][0] = 2.0


def test_results_are_embeddings_results(cached: Graph) -> None:
    assert isinstance(run_graph(cached, request(TEXTS[:1])), EmbeddingsResult)


async def test_concurrent_hits_and_misses_go_through_the_entry_and_match_the_uncached_graph(
    cached: Graph, uncached: Graph
) -> None:
    """The cache nodes batch (each request on its own), so the graph still takes its requests
    at its entry (`ovserve.graph.entry`); hits, misses and partial hits in one job each get
    exactly the uncached graph's answer."""
    import asyncio

    assert cached.entry() is not None
    run_graph(cached, request(TEXTS[:2]))  # cached from here on
    payloads = [request(TEXTS[:2]), request(("fresh one", TEXTS[0])), request(("fresh two",))] * 4
    answers = await asyncio.gather(*(cached.run({"input": p}) for p in payloads))
    for payload, answer in zip(payloads, answers, strict=True):
        result = answer["output"]
        assert isinstance(result, EmbeddingsResult)
        reference = run_graph(uncached, payload)
        assert np.array_equal(result.embeddings, reference.embeddings)
        assert result.prompt_tokens == reference.prompt_tokens
