"""Helpers of the calculators tests (fixtures live in conftest.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

import calculators  # noqa: F401  # registers the built-ins
from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsRequest, EmbeddingsResult
from ovserve.graph.node_loading import default_core
from ovserve.graph.resources import ModelResolver, NoModels
from ovserve.graph.runner import Graph, load_graph
from ovserve.graph.services import GraphServices
from ovserve.models import ModelManager
from ovserve.workspace import read_workspace

REPO = Path(__file__).resolve().parents[2]


NATIVE_GRAPH = REPO / "graphs" / "embeddings" / "graph.pbtxt"


def extraction_options(text: str, fields: str) -> str:
    """The native graph `text` with FeatureExtractionCalculatorOptions `fields` on its
    Embeddings node (which must have no options yet), e.g. `batching { enabled: false }`."""
    for output in ("HIDDEN_STATES:hidden_states", "EMBEDDINGS:embeddings"):
        end = f'  output_stream: "{output}"\n}}'  # the node's last line, where its options go
        if end in text:
            break
    else:
        raise AssertionError("the graph has no Embeddings node output")
    options = (
        "  node_options: {\n"
        "    [type.googleapis.com/ovserve.calculators.FeatureExtractionCalculatorOptions]: {\n"
        f"      {fields}\n    }}\n  }}\n"
    )
    return text.replace(end, end[:-1] + options + "}")


def pooled_at_output(text: str, *, pooling: str = "AUTO", fields: str = "") -> str:
    """The native graph `text` as the OVMS forms expand: its Embeddings node pools and
    normalizes at the model's output (the EMBEDDINGS output, `pooling` mode) in place of the
    Pooling and Normalize nodes; `fields` are further options of that node."""
    for node in ("Pooling", "Normalize"):
        text, count = re.subn(rf'node {{\n  name: "{node}"\n.*?\n}}\n\n', "", text, flags=re.DOTALL)
        assert count == 1, f"no {node} node in the graph"
    text = text.replace(
        'output_stream: "HIDDEN_STATES:hidden_states"', 'output_stream: "EMBEDDINGS:embeddings"'
    )
    return extraction_options(
        text, f"{fields} pooling {{ mode: {pooling} }} normalize {{ enabled: true }}".strip()
    )


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


def load_workspace_graph(
    config: Path, *, services: GraphServices | None = None
) -> tuple[Graph, ModelManager]:
    """Load the single graph of a workspace with its subconfig models, as the server does."""
    workspace = read_workspace(config)
    (spec,) = workspace.graphs
    models = ModelManager(default_core())
    models.load(spec.models)
    return load_graph(spec, resolver=models, core=default_core(), services=services), models


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


def variant_of_flat_graph(flat: Path, **replace: str) -> str:
    """The exported flat graph.pbtxt with option lines replaced (`key=new line`)."""
    text = (flat / "graph.pbtxt").read_text()
    for key, line in replace.items():
        text, count = re.subn(rf"^\s*{key}:.*$", line, text, flags=re.MULTILINE)
        assert count == 1, key
    return text
