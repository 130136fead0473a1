"""Session fixtures for the model tests: cached exports, loaded graphs, the reference vectors.

Every graph is loaded the way the server loads it (workspace → model manager → graph engine),
once per session, and run on the whole text set as one batch. The reference is
`SentenceTransformer(path).encode()` (mean pooling, 256-token cut, L2), computed once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pytest

import calculators  # noqa: F401  # registers the built-ins
from ovserve.graph.node_loading import default_core
from ovserve.graph.runner import Graph, load_graph
from tests.calculators.support import (
    NATIVE_GRAPH,
    TEXTS,
    GraphSource,
    load_text_graph,
    load_workspace_graph,
    variant_of_flat_graph,
)
from tests.support.models import default_model_source, exported_workspace, graph_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@pytest.fixture(scope="session")
def sentence_transformer() -> SentenceTransformer:
    # Imported here, for the model tests only: the calculators never import torch or
    # transformers. sentence-transformers 5.3.0 / torch 2.13.0+cpu emit no Python warnings on
    # import, load or encode (checked with warnings "always"), so the error filter stays on.
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(default_model_source()), device="cpu")


@pytest.fixture(scope="session")
def reference(sentence_transformer: SentenceTransformer) -> npt.NDArray[np.float32]:
    vectors = np.asarray(sentence_transformer.encode(list(TEXTS)), dtype=np.float32)
    return vectors


@pytest.fixture(scope="session")
def reference_prompt_tokens(sentence_transformer: SentenceTransformer) -> int:
    features = sentence_transformer.tokenize(list(TEXTS))
    return int(features["attention_mask"].sum())


@pytest.fixture(scope="session")
def flat_fp32() -> Path:
    """Directory of the flat fp32 export (truncate on, plugin_config asks for f32)."""
    return graph_dir(exported_workspace("fp32", "flat", truncate=True))


@pytest.fixture(scope="session")
def native_graph(flat_fp32: Path) -> Iterator[Graph]:
    """graphs/embeddings/graph.pbtxt served from the flat fp32 export (f32 execution)."""
    graph = load_graph(
        GraphSource(name="native", graph_path=NATIVE_GRAPH, base_path=flat_fp32), core=default_core()
    )
    yield graph
    graph.close()


@pytest.fixture(scope="session")
def old_graph() -> Iterator[Graph]:
    """The versioned (OVMS 2024.5 `EmbeddingsCalculator`) fp32 export, f32 in its subconfig."""
    graph, _ = load_workspace_graph(exported_workspace("fp32", "versioned", truncate=True))
    yield graph
    graph.close()


@pytest.fixture(scope="session")
def new_graph(flat_fp32: Path) -> Iterator[Graph]:
    """The flat (OVMS `EmbeddingsCalculatorOV`) fp32 export as exported (f32 plugin_config)."""
    graph, _ = load_workspace_graph(exported_workspace("fp32", "flat", truncate=True))
    yield graph
    graph.close()


@pytest.fixture(scope="session")
def new_graph_default_precision(flat_fp32: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graph]:
    """The flat fp32 export with the plugin's default precision (bf16 where the CPU has it)."""
    text = variant_of_flat_graph(flat_fp32, plugin_config='plugin_config: \'{"NUM_STREAMS": "1"}\',')
    graph = load_text_graph(tmp_path_factory.mktemp("default"), text, flat_fp32)
    yield graph
    graph.close()


@pytest.fixture(scope="session")
def new_graph_int8() -> Iterator[Graph]:
    """The flat int8 weight-only export (plugin default precision, as exported)."""
    graph, _ = load_workspace_graph(exported_workspace("int8", "flat", truncate=True))
    yield graph
    graph.close()


@pytest.fixture(scope="session")
def last_raw_strict_graph(flat_fp32: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graph]:
    """Flat fp32 with LAST pooling, no normalisation and truncate off."""
    text = variant_of_flat_graph(
        flat_fp32,
        pooling="pooling: LAST,",
        normalize_embeddings="normalize_embeddings: false,",
        truncate="truncate: false,",
    )
    graph = load_text_graph(tmp_path_factory.mktemp("last"), text, flat_fp32)
    yield graph
    graph.close()


@pytest.fixture(scope="session")
def cls_graph(flat_fp32: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graph]:
    """Flat fp32 with CLS pooling (normalised, truncating)."""
    text = variant_of_flat_graph(flat_fp32, pooling="pooling: CLS,")
    graph = load_text_graph(tmp_path_factory.mktemp("cls"), text, flat_fp32)
    yield graph
    graph.close()
