"""Session fixtures for the model tests: cached exports, loaded graphs, the reference vectors.

Every graph is loaded the way the server loads it (workspace → model manager → graph engine),
once per session, and run on the whole text set as one batch. The reference is
`SentenceTransformer(path).encode()` (mean pooling, 256-token cut, L2), computed once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pytest

import calculators  # noqa: F401  # registers the built-ins
from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsRequest, EmbeddingsResult
from ovserve.graph.loading import default_core
from ovserve.graph.resources import ModelResolver, NoModels
from ovserve.graph.runner import Graph, load_graph
from ovserve.graph.services import GraphServices
from ovserve.models import ModelManager
from ovserve.workspace import load_workspace
from tests.support.models import default_model_source, exported_workspace, graph_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

REPO = Path(__file__).resolve().parents[2]
NATIVE_GRAPH = REPO / "graphs" / "embeddings" / "graph.pbtxt"
LONG_TEXT = " ".join(f"word{i} of a long document about embeddings" for i in range(150))
TEXTS = (
    "",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Crème brûlée, déjà vu, naïve façade, Ångström, São Paulo.",
    "日本語のテキストを埋め込みます。",
    "中文句子的向量表示。",
    "Привет, как дела?",
    "مرحبا بالعالم",
    "Emoji time 😀🚀🎉 and more 👍🏽",
    "   ",
    "\t\n\r",
    "[CLS] [SEP] [MASK] [PAD] literal special tokens",
    "OpenVINO runs transformer models efficiently on CPUs.",
    "A" * 60,
    "a " * 300,
    "Numbers 3.14159 and 2.71828 and 42.",
    "UPPER lower MiXeD case",
    "Short",
    "Sentence embeddings map text to vectors.",
    "What is the capital of France? Paris is.",
    LONG_TEXT,
)


@dataclass(frozen=True)
class GraphSource:
    """A graph file served from a base directory (what `ovserve.workspace.GraphSpec` provides)."""

    name: str
    graph_path: Path
    base_path: Path


def run_graph(graph: Graph, payload: object) -> EmbeddingsResult:
    result = graph.run_sync({"input": payload})["output"]
    assert isinstance(result, EmbeddingsResult)
    return result


def embed(graph: Graph, texts: tuple[str, ...] = TEXTS) -> EmbeddingsResult:
    return run_graph(graph, EmbeddingsRequest(input=EmbeddingsInput(texts=texts)))


def cosines(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    dots: npt.NDArray[np.float64] = (a64 * b64).sum(1) / (
        np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1)
    )
    return dots


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


def load_workspace_graph(config: Path) -> tuple[Graph, ModelManager]:
    """Load the single graph of a workspace with its subconfig models, as the server does."""
    workspace = load_workspace(config)
    (spec,) = workspace.graphs
    models = ModelManager(default_core())
    models.load(spec.models)
    return load_graph(spec, resolver=models, core=default_core()), models


def load_text_graph(
    tmp: Path,
    text: str,
    base_path: Path,
    resolver: ModelResolver | None = None,
    *,
    services: GraphServices | None = None,
) -> Graph:
    path = tmp / "graph.pbtxt"
    path.write_text(text)
    return load_graph(
        GraphSource(name="variant", graph_path=path, base_path=base_path),
        resolver=resolver or NoModels(),
        core=default_core(),
        services=services,
    )


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


def variant_of_flat_graph(flat: Path, **replace: str) -> str:
    """The exported flat graph.pbtxt with option lines replaced (`key=new line`)."""
    text = (flat / "graph.pbtxt").read_text()
    for key, line in replace.items():
        text, count = re.subn(rf"^\s*{key}:.*$", line, text, flags=re.MULTILINE)
        assert count == 1, key
    return text


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
