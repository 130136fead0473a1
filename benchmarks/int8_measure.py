"""What `int8_recipes.py` measures of a compressed model: accuracy and speed, end to end.

A model is compiled in an execution `Setting` (`compile_in`, which reads back the precision and
dynamic-quantization group size the plugin took) and embeds texts as `raw_model` does: OV
tokenizer, compiled model, mean pooling, L2 normalize. `accuracy` compares its vectors with
sentence-transformers' (`reference_vectors`) against OVMS's pass line `LINE`; `abba_block`
measures its speed against plain INT8_ASYM in plain, recipe, recipe, plain order.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
from int8_recipe_defs import Recipe
from raw_model import pool, property_text

LINE = 0.06
"""OVMS's compare_results pass line: a text passes when L2 < LINE."""
BATCH_CALLS, SHORT_CALLS = 2, 15
"""Calls per measured chunk; a chunk's figure is its best call. Other work on a shared 2-core
machine stalls one of OpenVINO's two threads now and then, which a median of a few calls does
not absorb and the best call does."""


@dataclass(frozen=True)
class Setting:
    """An execution setting: CPU plugin properties added to the base ones at compile time."""

    name: str
    properties: dict[str, str]


SETTINGS = (
    Setting("plugin default", {}),
    Setting("f32, DQ 0", {"INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"}),
)
DEFAULT = SETTINGS[0]


class Texts:
    """One compiled OV tokenizer; tokenizes for any compiled model with the same inputs."""

    def __init__(self, core: ov.Core, tokenizer_xml: Path, input_names: set[str]) -> None:
        self.request = core.compile_model(str(tokenizer_xml), "CPU").create_infer_request()
        self.input_names = input_names

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        outputs = self.request.infer({0: np.array(list(texts))})
        named = {key.get_any_name(): value for key, value in outputs.items()}
        return {name: value for name, value in named.items() if name in self.input_names}


@dataclass
class Compiled:
    """One recipe compiled in one setting, with the properties the plugin actually took."""

    recipe: Recipe
    setting: Setting
    request: ov.InferRequest
    precision: str
    dq_group_size: str

    @property
    def runs_at(self) -> str:
        return f"{self.precision}, DQ {self.dq_group_size}"


def compile_in(
    core: ov.Core, model: ov.Model, recipe: Recipe, setting: Setting, base: dict[str, str]
) -> Compiled:
    compiled = core.compile_model(model, "CPU", {**base, **setting.properties})
    return Compiled(
        recipe=recipe,
        setting=setting,
        request=compiled.create_infer_request(),
        precision=property_text(compiled.get_property("INFERENCE_PRECISION_HINT")),
        dq_group_size=str(compiled.get_property("DYNAMIC_QUANTIZATION_GROUP_SIZE")),
    )


def embed(texts: Texts, request: ov.InferRequest, batch: Sequence[str]) -> tuple[np.ndarray, int]:
    """Mean-pooled, L2-normalized vectors of `batch` in one call, and its real token count."""
    inputs = texts.tokenize(batch)
    hidden = request.infer(inputs)[0]
    return pool(hidden, inputs["attention_mask"]), int(inputs["attention_mask"].sum())


def embed_each(texts: Texts, request: ov.InferRequest, batch: Sequence[str]) -> np.ndarray:
    """Each text alone (no padding), as one text per request would be served."""
    return np.concatenate([embed(texts, request, [text])[0] for text in batch])


@dataclass(frozen=True)
class Accuracy:
    min_cos: float
    max_l2: float
    over: int
    worst: str
    l2: tuple[float, ...]


def accuracy(vectors: np.ndarray, reference: np.ndarray, labels: Sequence[str]) -> Accuracy:
    ours, theirs = vectors.astype(np.float64), reference.astype(np.float64)
    cos = (ours * theirs).sum(axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    l2 = np.linalg.norm(ours - theirs, axis=1)
    worst = int(np.argmax(l2))
    return Accuracy(
        float(cos.min()), float(l2.max()), int((l2 >= LINE).sum()), labels[worst], tuple(float(x) for x in l2)
    )


@dataclass
class Speed:
    """Every chunk measured for one compiled model, and its ABBA ratios to plain INT8_ASYM."""

    tokens_per_second: list[float] = field(default_factory=list)
    short_ms: list[float] = field(default_factory=list)
    batch_ratios: list[float] = field(default_factory=list)
    short_ratios: list[float] = field(default_factory=list)


Speeds = dict[int, Speed]
"""By `id()` of the `Compiled` entry."""


def batch_chunk(texts: Texts, entry: Compiled, batch: Sequence[str]) -> float:
    """Tokens/s of the best of BATCH_CALLS calls on the whole batch."""
    best = 0.0
    for _ in range(BATCH_CALLS):
        start = time.perf_counter()
        tokens = embed(texts, entry.request, batch)[1]
        best = max(best, tokens / (time.perf_counter() - start))
    return best


def short_chunk(texts: Texts, entry: Compiled, short: Sequence[str]) -> float:
    """The ms of the best of SHORT_CALLS calls on one short text."""
    best = float("inf")
    for _ in range(SHORT_CALLS):
        start = time.perf_counter()
        embed(texts, entry.request, short)
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def abba_block(
    texts: Texts, entry: Compiled, base: Compiled, work: tuple[Sequence[str], Sequence[str]], speeds: Speeds
) -> None:
    """plain, entry, entry, plain for each figure, within seconds: one ratio each."""
    batch, short = work
    ours, theirs = speeds[id(entry)], speeds[id(base)]
    rates = [batch_chunk(texts, e, batch) for e in (base, entry, entry, base)]
    times = [short_chunk(texts, e, short) for e in (base, entry, entry, base)]
    theirs.tokens_per_second += [rates[0], rates[3]]
    ours.tokens_per_second += rates[1:3]
    theirs.short_ms += [times[0], times[3]]
    ours.short_ms += times[1:3]
    ours.batch_ratios.append((rates[1] + rates[2]) / (rates[0] + rates[3]))
    ours.short_ratios.append((times[0] + times[3]) / (times[1] + times[2]))


def passes(recipe: Recipe, results: dict[tuple[str, str], Accuracy]) -> bool:
    """No text at or over the line in any setting."""
    return all(results[recipe.name, setting.name].over == 0 for setting in SETTINGS)


def reference_vectors(source: Path, batch: Sequence[str]) -> tuple[np.ndarray, int]:
    """sentence-transformers' vectors, as OVMS's compare_results computes them, and its max length."""
    from sentence_transformers import SentenceTransformer

    hf_logging: Any = importlib.import_module("transformers.utils.logging")
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    with contextlib.redirect_stdout(io.StringIO()):
        model = SentenceTransformer(str(source), device="cpu")
    vectors = np.asarray(model.encode(list(batch), normalize_embeddings=True), dtype=np.float32)
    return vectors, int(model.max_seq_length)
