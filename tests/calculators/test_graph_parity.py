"""The three graph forms against `SentenceTransformer.encode()` on the fixed text set.

Thresholds (min cosine over TEXTS): fp32 weights at f32 execution >= 0.99999; fp32 at the CPU
plugin's default precision (bf16 on CPUs with AVX-512 bf16) >= 0.9999; int8 weight-only >= 0.997.
How a workspace asks for f32: `plugin_config` `{"INFERENCE_PRECISION_HINT": "f32"}` (the exporter
writes it for fp32 weights into subconfig.json / the flat graph; the native graph carries it).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from calculators.payload import EmbeddingsResult
from ovserve.graph.runner import Graph
from tests.calculators.conftest import LONG_TEXT, TEXTS, cosines, embed

pytestmark = pytest.mark.slow


def check(result: EmbeddingsResult, reference: npt.NDArray[np.float32], threshold: float) -> float:
    assert result.embeddings.dtype == np.float32
    assert result.embeddings.shape == (len(TEXTS), 384)
    worst = float(cosines(result.embeddings, reference).min())
    assert worst >= threshold, worst
    return worst


def test_text_set_is_representative(sentence_transformer: object) -> None:
    from sentence_transformers import SentenceTransformer

    assert isinstance(sentence_transformer, SentenceTransformer)
    assert len(TEXTS) >= 20
    assert len(sentence_transformer.tokenizer(LONG_TEXT)["input_ids"]) > 1000


@pytest.mark.parametrize("form", ["native_graph", "old_graph", "new_graph"])
def test_fp32_at_f32_matches_sentence_transformers(
    form: str,
    request: pytest.FixtureRequest,
    reference: npt.NDArray[np.float32],
    reference_prompt_tokens: int,
) -> None:
    graph: Graph = request.getfixturevalue(form)
    result = embed(graph)
    check(result, reference, 0.99999)
    np.testing.assert_allclose(np.linalg.norm(result.embeddings, axis=1), 1.0, rtol=1e-5)
    assert result.prompt_tokens == reference_prompt_tokens


def test_fp32_at_default_precision(
    new_graph_default_precision: Graph, reference: npt.NDArray[np.float32]
) -> None:
    check(embed(new_graph_default_precision), reference, 0.9999)


def test_int8_weight_only(new_graph_int8: Graph, reference: npt.NDArray[np.float32]) -> None:
    check(embed(new_graph_int8), reference, 0.997)


def test_forms_agree_with_each_other(native_graph: Graph, old_graph: Graph, new_graph: Graph) -> None:
    native = embed(native_graph).embeddings
    for other in (old_graph, new_graph):
        np.testing.assert_allclose(embed(other).embeddings, native, atol=1e-5)


def test_single_and_batched_requests_agree(native_graph: Graph) -> None:
    batched = embed(native_graph).embeddings
    for i in (0, 3, len(TEXTS) - 1):
        single = embed(native_graph, (TEXTS[i],)).embeddings
        assert float(cosines(single, batched[i : i + 1])[0]) >= 0.99999
