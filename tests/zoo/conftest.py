"""Session fixtures of the zoo tests: each zoo model exported once per layout, loaded as the
server loads it, with its sentence-transformers reference computed once.

Exports are fp32 with truncation on (`ovserve export embeddings --weight-format fp32
--truncate`), so the graph runs f32 (the exporter pins `INFERENCE_PRECISION_HINT`) and cuts at
the folder's `max_seq_length` as `SentenceTransformer.encode` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pytest

from ovserve.graph.runner import Graph
from tests.calculators.conftest import LONG_TEXT, TEXTS, load_workspace_graph
from tests.support.models import exported_workspace
from tests.support.zoo import ZOO, zoo_model

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from transformers import PreTrainedTokenizerBase

ZOO_TEXTS = (
    *TEXTS,
    "word " * 40,
    "  leading and trailing whitespace \n",
    "x ",
    "Ünïcödé ✓ ok",
)
"""The calculator tests' texts (empty, accents, CJK, Arabic, emoji, whitespace, over-long) and
a few whose whitespace the tokenizers of other architectures treat differently."""
assert LONG_TEXT in ZOO_TEXTS


def zoo_workspace(name: str, layout: str) -> Path:
    """The cached fp32 export of zoo model `name` in `layout` (versioned or flat)."""
    return exported_workspace("fp32", layout, source=zoo_model(name), model_name=f"zoo/{name}", truncate=True)


@dataclass(frozen=True)
class ZooCase:
    """One zoo model, exported (flat layout), loaded and with its reference."""

    name: str
    folder: Path
    graph: Graph
    model: SentenceTransformer
    reference: npt.NDArray[np.float32]
    """`model.encode(ZOO_TEXTS)`."""

    @property
    def hf_tokenizer(self) -> PreTrainedTokenizerBase:
        tokenizer: PreTrainedTokenizerBase = self.model.tokenizer
        return tokenizer


@pytest.fixture(scope="session", params=list(ZOO))
def zoo(request: pytest.FixtureRequest) -> Iterator[ZooCase]:
    # Imported here: the calculators never import torch or sentence-transformers.
    from sentence_transformers import SentenceTransformer

    name: str = request.param
    folder = zoo_model(name)
    graph, _ = load_workspace_graph(zoo_workspace(name, "flat"))
    model = SentenceTransformer(str(folder), device="cpu")
    reference = np.asarray(model.encode(list(ZOO_TEXTS)), dtype=np.float32)
    yield ZooCase(name=name, folder=folder, graph=graph, model=model, reference=reference)
    graph.close()
