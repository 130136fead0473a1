"""Helpers of the zoo tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pytest

from ovserve.graph.runner import Graph
from tests.calculators.support import LONG_TEXT, TEXTS
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


def prompt_names(zoo: ZooCase) -> list[str]:
    """The zoo model's own prompt names; skips the test for a model that has none."""
    prompts = ZOO[zoo.name].prompts
    if not prompts:
        pytest.skip(f"{zoo.name} has no prompts")
    return list(prompts)


def st_prompt(model: SentenceTransformer, prompt_name: str | None = None) -> str:
    """The prompt `model.encode(..., prompt_name=prompt_name)` puts before every text."""
    if prompt_name is not None:
        prompt: str = model.prompts[prompt_name]
        return prompt
    default = model.default_prompt_name
    return model.prompts.get(default, "") if default is not None else ""


def st_tokens(
    model: SentenceTransformer,
    texts: Sequence[str],
    prompt_name: str | None = None,
    max_length: int | None = None,
) -> int:
    """The tokens `model.encode(texts, prompt_name=...)` feeds the model (cut at `max_length`
    instead of the model's `max_seq_length` when given): what `usage.prompt_tokens` counts."""
    prompt = st_prompt(model, prompt_name)
    saved = model.max_seq_length
    model.max_seq_length = max_length or saved
    try:
        features = model.tokenize([prompt + text for text in texts])
    finally:
        model.max_seq_length = saved
    return int(features["attention_mask"].sum())


def st_encode(
    model: SentenceTransformer,
    texts: Sequence[str],
    prompt_name: str | None = None,
    max_length: int | None = None,
) -> npt.NDArray[np.float32]:
    """`model.encode(texts, prompt_name=...)`, cut at `max_length` tokens when given."""
    saved = model.max_seq_length
    model.max_seq_length = max_length or saved
    try:
        return np.asarray(model.encode(list(texts), prompt_name=prompt_name), dtype=np.float32)
    finally:
        model.max_seq_length = saved


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
