"""The three graph forms against `SentenceTransformer.encode()` on the fixed text set.

Thresholds (min cosine over TEXTS) follow from what each compiled model runs, read back
(`tests.support.precision`): fp32 weights at f32 >= 0.99999; fp32 at bf16 (the CPU plugin's
default on CPUs with AVX-512 bf16) >= 0.9999; int8 weight-only >= 0.997 at any precision.
How a workspace asks for f32: `plugin_config` `{"INFERENCE_PRECISION_HINT": "f32"}` (the exporter
writes it for fp32 weights into subconfig.json / the flat graph; the native graph carries it).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import openvino as ov
import pytest

from calculators import model_facts
from ovserve.graph.formats.embeddings import EmbeddingsResult
from ovserve.graph.node_loading import default_core
from ovserve.graph.runner import Graph
from tests.calculators.graphs import OLD_GRAPH
from tests.calculators.support import LONG_TEXT, TEXTS, cosines, embed, load_workspace_graph
from tests.support.precision import execution_of, min_cosine_against_reference

pytestmark = pytest.mark.slow


def check(graph: Graph, reference: npt.NDArray[np.float32]) -> EmbeddingsResult:
    """Embed TEXTS on `graph`; the worst cosine to `reference` is within what its model runs allows."""
    result = embed(graph)
    threshold = min_cosine_against_reference(execution_of(graph))
    assert result.embeddings.dtype == np.float32
    assert result.embeddings.shape == (len(TEXTS), 384)
    worst = float(cosines(result.embeddings, reference).min())
    assert worst >= threshold, (worst, execution_of(graph))
    return result


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
    execution = execution_of(graph)
    assert execution.exact, execution  # the fp32 export and the native graph pin f32
    assert not execution.compressed_weights
    result = check(graph, reference)
    np.testing.assert_allclose(np.linalg.norm(result.embeddings, axis=1), 1.0, rtol=1e-5)
    assert result.prompt_tokens == reference_prompt_tokens


def test_fp32_at_default_precision(
    new_graph_default_precision: Graph, reference: npt.NDArray[np.float32]
) -> None:
    # bf16 where the CPU has it, f32 elsewhere: `check` takes the bound of what runs.
    check(new_graph_default_precision, reference)


def test_int8_weight_only(new_graph_int8: Graph, reference: npt.NDArray[np.float32]) -> None:
    assert execution_of(new_graph_int8).compressed_weights
    check(new_graph_int8, reference)


def test_forms_agree_with_each_other(native_graph: Graph, old_graph: Graph, new_graph: Graph) -> None:
    # All three run the same fp32 IR at f32 on the same batch shape: equal to fp32 rounding.
    native = embed(native_graph).embeddings
    for other in (old_graph, new_graph):
        assert execution_of(other) == execution_of(native_graph)
        np.testing.assert_allclose(embed(other).embeddings, native, atol=1e-5)


def test_single_and_batched_requests_agree(native_graph: Graph) -> None:
    bound = execution_of(native_graph).batch_bound
    batched = embed(native_graph).embeddings
    for i in (0, 3, len(TEXTS) - 1):
        single = embed(native_graph, (TEXTS[i],)).embeddings
        assert float(cosines(single, batched[i : i + 1])[0]) >= bound.min_cosine
        np.testing.assert_allclose(single, batched[i : i + 1], rtol=0, atol=bound.max_abs)


@pytest.fixture(scope="module")
def ovms_made_graph(flat_fp32: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graph]:
    """An old-layout workspace as OVMS's exporter made it: no ovserve_* rt_info keys.

    Built from the flat export: the embeddings IR keeps only the HF config keys in `model_info`;
    the tokenizer IR is used as exported (its cut at 256 baked in, like OVMS `--truncate`).
    """
    root = tmp_path_factory.mktemp("ovms-made")
    graph_root = root / "m"
    core = default_core()
    model = core.read_model(flat_fp32 / "openvino_model.xml")
    info = model_facts.model_info(model)
    del model.get_rt_info()["model_info"]
    for key, value in info.items():
        if not key.startswith("ovserve_"):
            model.set_rt_info(value, ["model_info", key])
    ov.save_model(model, graph_root / "embeddings" / "1" / "model.xml", compress_to_fp16=False)
    (graph_root / "tokenizer" / "1").mkdir(parents=True)
    for suffix in (".xml", ".bin"):
        shutil.copy(
            flat_fp32 / f"openvino_tokenizer{suffix}", graph_root / "tokenizer" / "1" / f"model{suffix}"
        )
    f32 = {"INFERENCE_PRECISION_HINT": "f32"}
    subconfig = [
        {"config": {"name": "m_tokenizer_model", "base_path": "tokenizer"}},
        {"config": {"name": "m_embeddings_model", "base_path": "embeddings", "plugin_config": f32}},
    ]
    (graph_root / "subconfig.json").write_text(json.dumps({"model_config_list": subconfig}))
    (graph_root / "graph.pbtxt").write_text(OLD_GRAPH.replace("normalize_embeddings: false,", ""))
    (root / "config.json").write_text(
        json.dumps({"mediapipe_config_list": [{"name": "m"}], "model_config_list": []})
    )
    graph, _ = load_workspace_graph(root / "config.json")
    yield graph
    graph.close()


def test_ovms_made_old_workspace_pools_cls(ovms_made_graph: Graph, cls_graph: Graph) -> None:
    """Without ovserve's keys the old graph behaves as OVMS: CLS pooling, the tokenizer's own cut."""
    got = embed(ovms_made_graph)
    np.testing.assert_allclose(got.embeddings, embed(cls_graph).embeddings, atol=1e-5)
    assert got.prompt_tokens == embed(cls_graph).prompt_tokens
