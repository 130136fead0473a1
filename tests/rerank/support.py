"""Rerank workspaces in every graph form, the document set, and the reference scores.

Forms: `flat` (OVMS's `RerankCalculatorOV`, as `ovserve export rerank_ov` writes it),
`versioned` (OVMS's sessions form with `RerankCalculator`, as `ovserve export rerank` writes
it) and `native` (`graphs/rerank/graph.pbtxt` copied into the flat export's directory).
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.support.cross_encoders import cross_encoder, rerank_workspace
from tests.support.models import REPO_ROOT, copy_workspace

MODELS = ("bert", "xlm-roberta")
FORMS = ("flat", "versioned", "native")
QUERY = "where is the capital of france?"
LONG_DOCUMENT = " ".join(["paris is a large city on the seine"] * 40)  # far beyond M = 64
DOCUMENTS: tuple[str, ...] = (
    "",
    "paris is the capital of france",
    "the cat sat on the mat",
    LONG_DOCUMENT,
    "berlin is the capital of germany",
    "x",
    "Café crème, s'il vous plaît.",
    "   leading and trailing spaces   ",
    "the seine flows through paris",
    "1 2 3 4 5 6 7 8 9 10",
    "france borders spain, italy, germany and belgium",
    "lyon is a city in france",
    "rome",
    "capital",
    "madrid is the capital of spain",
    "emoji 🙂 and symbols ∑",
    "the eiffel tower is in paris",
    "quantum chromodynamics",
    "PARIS",
    "tokyo is the capital of japan",
)
LONG_QUERY = " ".join(["what is the capital city of france and where is it"] * 8)


def graph_name(model: str) -> str:
    return f"rerank/{model}"


def workspace(model: str, form: str, tmp: Path) -> Path:
    """The `config.json` of a copy of `model`'s rerank workspace in graph form `form`."""
    source = rerank_workspace(model, "versioned" if form == "versioned" else "flat")
    config = copy_workspace(source, tmp / f"{model}-{form}")
    if form == "native":
        shutil.copyfile(
            REPO_ROOT / "graphs" / "rerank" / "graph.pbtxt", config.parent / graph_name(model) / "graph.pbtxt"
        )
    return config


@cache
def reference_scores(model: str, query: str, documents: tuple[str, ...]) -> npt.NDArray[np.float64]:
    """`CrossEncoder(...).predict` scores (torch, f32) of (query, document) pairs."""
    from sentence_transformers import CrossEncoder

    encoder = CrossEncoder(str(cross_encoder(model)), device="cpu")
    return np.asarray(encoder.predict([(query, d) for d in documents]), dtype=np.float64)
