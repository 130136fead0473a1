"""Batched vs unbatched inference on the real model: the same vectors within the promised bound.

Requests are made to merge deterministically: the batcher is held (`DynamicBatcher.hold`)
while concurrent runs queue their rows, then released, so one merged batch runs whatever
queued. Graphs are `graphs/embeddings/graph.pbtxt` served from cached flat exports, the
feature-extraction node's `batching` options and the pooling mode varied. That graph pins
exact execution (f32, no dynamic quantization of activations), which is what makes batched
equal alone to fp32 rounding on every CPU; each such test checks the compiled model really
runs that. The plugin-default test reads back what runs and holds it to
`Execution.batch_bound` (bf16 and int8 activations on CPUs that have them).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from calculators.batching import DynamicBatcher
from calculators.feature_extraction_calculator import Extraction
from ovserve.errors import ConfigError, InvalidArgument
from ovserve.graph import BATCHING, BatchSettings, GraphServices
from ovserve.graph.formats.arrays import Float32Array
from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsRequest, EmbeddingsResult
from ovserve.graph.formats.tokens import TokenBatch
from ovserve.graph.runner import Graph
from ovserve.runtime.execution import Execution
from tests.calculators.support import (
    LONG_TEXT,
    NATIVE_GRAPH,
    TEXTS,
    extraction_options,
    load_text_graph,
    pooled_at_output,
    run_graph,
)
from tests.support.models import exported_workspace, graph_dir
from tests.support.precision import execution_of

pytestmark = pytest.mark.slow


REQUESTS: tuple[tuple[str, ...], ...] = (
    ("Short",),
    ("Hello, world!", LONG_TEXT),
    ("The quick brown fox jumps over the lazy dog.",),
    ("a " * 300,),
    (TEXTS[3], TEXTS[4], TEXTS[8]),
    ("",),
    ("Sentence embeddings map text to vectors.", "UPPER lower MiXeD case"),
    ("What is the capital of France? Paris is.",),
)


def graph_text(
    *, batching: str = "", pooling: str = "MEAN", plugin_config: str | None = None, fused: bool = False
) -> str:
    """The native graph with the Embeddings node's batching options, the pooling mode and,
    when given, another `plugin_config` JSON text. `fused`: the Embeddings node pools and
    normalizes at the model's output, as the OVMS forms expand (`pooled_at_output`)."""
    text = NATIVE_GRAPH.read_text()
    if plugin_config is not None:
        text, count = re.subn(r"plugin_config: '.*'", f"plugin_config: '{plugin_config}'", text)
        assert count == 1
    fields = f"batching {{ {batching} }}" if batching else ""
    if fused:
        return pooled_at_output(text, pooling=pooling, fields=fields)
    text, count = re.subn(r"mode: AUTO", f"mode: {pooling}", text)
    assert count == 1
    return extraction_options(text, fields) if fields else text


def batcher_of(graph: Graph) -> DynamicBatcher[object] | None:
    state = graph._loaded.node_state["Embeddings"]
    assert isinstance(state, Extraction)
    return state.batcher


def request(texts: Sequence[str]) -> EmbeddingsRequest:
    return EmbeddingsRequest(input=EmbeddingsInput(texts=tuple(texts)))


Outcome = EmbeddingsResult | Exception


def run_merged(jobs: Sequence[tuple[Graph, object]], rows: int) -> list[Outcome]:
    """Run every (graph, payload) on its own thread while the graphs' batchers are held.

    `rows` is how many rows the jobs queue in all (the bad ones fail before queueing).
    """
    results: list[Outcome] = [RuntimeError("not run")] * len(jobs)

    def one(i: int) -> None:
        graph, payload = jobs[i]
        try:
            results[i] = run_graph(graph, payload)
        except Exception as exc:
            results[i] = exc

    batchers = list({id(b): b for g, _ in jobs if (b := batcher_of(g)) is not None}.values())
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(jobs))]
    holds = [b.hold() for b in batchers]
    for hold in holds:
        hold.__enter__()
    try:
        for t in threads:
            t.start()
        while sum(b.pending_rows for b in batchers) < rows:
            threading.Event().wait(0.005)
    finally:
        for hold in holds:
            hold.__exit__(None, None, None)
    for t in threads:
        t.join(timeout=120)
    return results


def assert_same(batched: Outcome, alone: EmbeddingsResult, execution: Execution) -> None:
    """Batched equals alone within what `execution` promises (per component and by cosine)."""
    assert isinstance(batched, EmbeddingsResult), batched
    assert batched.embeddings.shape == alone.embeddings.shape
    bound = execution.batch_bound
    np.testing.assert_allclose(batched.embeddings, alone.embeddings, rtol=0, atol=bound.max_abs)
    cosines = (batched.embeddings.astype(np.float64) * alone.embeddings).sum(axis=1)
    assert cosines.min() >= bound.min_cosine, (execution, cosines)
    assert batched.prompt_tokens == alone.prompt_tokens


def exact(graph: Graph) -> Execution:
    """The graph's execution, which must be the exact kind the native graph pins."""
    execution = execution_of(graph)
    assert execution.exact, f"the native graph should pin f32 without int8 activations: {execution}"
    return execution


@pytest.fixture(scope="module")
def fp32_dir() -> Path:
    return graph_dir(exported_workspace("fp32", "flat", truncate=True))


@pytest.fixture(scope="module")
def int8_dir() -> Path:
    return graph_dir(exported_workspace("int8", "flat", truncate=True))


@pytest.fixture(scope="module")
def make_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Graph]]:
    graphs: list[Graph] = []

    def make(base: Path, services: GraphServices | None = None, **options: Any) -> Graph:
        graph = load_text_graph(
            tmp_path_factory.mktemp("batching"), graph_text(**options), base, services=services
        )
        graphs.append(graph)
        return graph

    yield make
    for graph in graphs:
        graph.close()


@pytest.mark.parametrize("fused", [False, True], ids=["pooling-nodes", "pooled-at-output"])
@pytest.mark.parametrize("pooling", ["MEAN", "CLS", "LAST"])
def test_merged_batches_of_mixed_lengths_equal_unbatched(
    pooling: str, fused: bool, fp32_dir: Path, make_graph: Callable[..., Graph]
) -> None:
    batched = make_graph(fp32_dir, batching="enabled: true", pooling=pooling, fused=fused)
    alone = make_graph(fp32_dir, batching="enabled: false", pooling=pooling, fused=fused)
    assert batcher_of(alone) is None
    batcher = batcher_of(batched)
    assert batcher is not None
    rows = sum(len(r) for r in REQUESTS)
    results = run_merged([(batched, request(r)) for r in REQUESTS], rows)
    execution = exact(batched)
    for texts, result in zip(REQUESTS, results, strict=True):
        assert_same(result, run_graph(alone, request(texts)), execution)
    # Every row ran, in fewer inferences than requests, grouped by length.
    assert sum(batcher.history) == rows
    assert len(batcher.history) < len(REQUESTS)


@pytest.mark.parametrize("batching", ["enabled: true", "enabled: false"])
@pytest.mark.parametrize("pooling", ["MEAN", "CLS", "LAST"])
def test_pooling_at_the_model_output_gives_the_vectors_of_the_pooling_nodes(
    pooling: str, batching: str, fp32_dir: Path, make_graph: Callable[..., Graph]
) -> None:
    # Request by request, the two graph shapes do the same arithmetic on the same hidden
    # states (pool, then normalise, row by row). Only where the states lie differs (the infer
    # request's output, or a copy with zeroed padding), which can move numpy's summation
    # order and so a last bit: equal within f32 rounding, the exact execution's bound.
    fused = make_graph(fp32_dir, batching=batching, pooling=pooling, fused=True)
    nodes = make_graph(fp32_dir, batching=batching, pooling=pooling)
    state = fused._loaded.node_state["Embeddings"]
    assert isinstance(state, Extraction)
    assert state.pooler is not None
    assert state.pooler.mode == pooling
    assert state.pooler.normalize
    execution = exact(fused)
    for texts in REQUESTS:
        got = run_graph(fused, request(texts))
        assert got.embeddings.shape == (len(texts), 384)
        assert_same(got, run_graph(nodes, request(texts)), execution)


@pytest.mark.parametrize("field", ["pooling { mode: MEAN }", "normalize { enabled: false }"])
def test_pooling_options_without_the_embeddings_output_fail_the_load(
    field: str, fp32_dir: Path, tmp_path: Path
) -> None:
    text = graph_text(batching="enabled: false").replace("batching {", f"{field} batching {{")
    with pytest.raises(ConfigError, match="pooling and normalize options need the EMBEDDINGS output"):
        load_text_graph(tmp_path, text, fp32_dir).close()


def test_two_graphs_over_two_models_batch_separately_and_exactly(
    fp32_dir: Path, int8_dir: Path, make_graph: Callable[..., Graph]
) -> None:
    fp32, int8 = make_graph(fp32_dir), make_graph(int8_dir)
    fp32_alone = make_graph(fp32_dir, batching="enabled: false")
    int8_alone = make_graph(int8_dir, batching="enabled: false")
    jobs = [(g, request(r)) for r in REQUESTS for g in (fp32, int8)]
    results = run_merged(jobs, 2 * sum(len(r) for r in REQUESTS))
    executions = {fp32: exact(fp32), int8: exact(int8)}
    assert executions[int8].compressed_weights
    for (graph, payload), result in zip(jobs, results, strict=True):
        assert_same(
            result, run_graph(fp32_alone if graph is fp32 else int8_alone, payload), executions[graph]
        )
    for graph in (fp32, int8):
        batcher = batcher_of(graph)
        assert batcher is not None
        assert max(batcher.history) > 1


@pytest.mark.parametrize("weights", ["fp32", "int8"])
def test_at_the_plugin_default_batched_vectors_stay_within_the_promised_bound(
    weights: str, fp32_dir: Path, int8_dir: Path, make_graph: Callable[..., Graph]
) -> None:
    # No precision properties: bf16 and int8 activations where the CPU has them, f32
    # elsewhere. Whatever runs, batched vs alone stays within what ovserve promises for it.
    base = fp32_dir if weights == "fp32" else int8_dir
    batched = make_graph(base, plugin_config='{"NUM_STREAMS": 1}')
    alone = make_graph(base, batching="enabled: false", plugin_config='{"NUM_STREAMS": 1}')
    execution = execution_of(batched)
    assert execution == execution_of(alone)
    results = run_merged([(batched, request(r)) for r in REQUESTS], sum(len(r) for r in REQUESTS))
    for texts, result in zip(REQUESTS, results, strict=True):
        assert_same(result, run_graph(alone, request(texts)), execution)


def test_bad_requests_among_merged_good_ones_fail_alone(
    fp32_dir: Path, make_graph: Callable[..., Graph]
) -> None:
    batched = make_graph(fp32_dir)
    alone = make_graph(fp32_dir, batching="enabled: false")
    good = [request(r) for r in REQUESTS[:4]]
    bad = [
        EmbeddingsRequest(input=EmbeddingsInput(token_ids=((101, 10**6, 102),))),  # out of vocabulary
        EmbeddingsRequest(input=EmbeddingsInput(token_ids=(tuple(range(1000, 1600)),))),  # > max length
    ]
    jobs = [(batched, p) for p in (good[0], bad[0], good[1], good[2], bad[1], good[3])]
    results = run_merged(jobs, sum(len(r) for r in REQUESTS[:4]))
    assert isinstance(results[1], InvalidArgument)
    assert isinstance(results[4], InvalidArgument)
    execution = exact(batched)
    for i, payload in ((0, good[0]), (2, good[1]), (3, good[2]), (5, good[3])):
        assert_same(results[i], run_graph(alone, payload), execution)


def test_a_merged_inference_that_fails_is_retried_so_only_the_culprit_fails(
    fp32_dir: Path, make_graph: Callable[..., Graph]
) -> None:
    # Past the tokenizer's checks, a 600-token row breaks the model (512 positions). Rows of
    # 500 tokens are close enough in length to share its batch.
    state = make_graph(fp32_dir)._loaded.node_state["Embeddings"]
    assert isinstance(state, Extraction)
    batcher = state.batcher
    assert batcher is not None

    def tokens(length: int, start: int) -> TokenBatch:
        ids = np.arange(start, start + length, dtype=np.int64)[None, :]
        return TokenBatch(input_ids=ids, attention_mask=np.ones_like(ids), token_type_ids=np.zeros_like(ids))

    requests = [tokens(500, 2000), tokens(600, 3000), tokens(480, 4000)]
    results: list[Float32Array | Exception] = [RuntimeError("not run")] * 3

    def one(i: int) -> None:
        try:
            results[i] = batcher.run(requests[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    with batcher.hold():
        for t in threads:
            t.start()
        while batcher.pending_rows < 3:
            threading.Event().wait(0.005)
    for t in threads:
        t.join(timeout=120)
    assert isinstance(results[1], RuntimeError)
    for i in (0, 2):
        result = results[i]
        assert not isinstance(result, Exception)
        np.testing.assert_allclose(result, state.extractor.run(requests[i]), rtol=0, atol=1e-4)
    assert sorted(batcher.history) == [1, 1]  # the merged 3-row batch failed; good ones re-ran


def test_a_lone_request_on_an_idle_model_runs_at_once_as_a_batch_of_one(
    fp32_dir: Path, make_graph: Callable[..., Graph]
) -> None:
    graph = make_graph(fp32_dir)
    batcher = batcher_of(graph)
    assert batcher is not None
    run_graph(graph, request(["just one text"]))
    assert list(batcher.history) == [1]


def test_the_server_default_turns_batching_off_unless_a_graph_turns_it_on(
    fp32_dir: Path, make_graph: Callable[..., Graph]
) -> None:
    batching_off_by_default = GraphServices.of((BATCHING, BatchSettings(enabled=False)))
    assert batcher_of(make_graph(fp32_dir, batching_off_by_default)) is None
    on = make_graph(fp32_dir, batching_off_by_default, batching="enabled: true max_batch_size: 8")
    batcher = batcher_of(on)
    assert batcher is not None
    assert batcher.settings.max_batch_size == 8
