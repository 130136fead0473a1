"""Raw OpenVINO embeddings for the benchmarks: OV tokenizer + compiled model + mean pooling + L2.

Shared by `compare.py` (the in-process "raw" rows) and `baseline_server.py`, so that both run
exactly the same computation on the same IR files, and ovserve is compared with it. Only
OpenVINO and numpy are used: no ovserve code, so the raw figures do not move when ovserve
changes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
import openvino_tokenizers  # noqa: F401  (registers the tokenizer operations with OpenVINO)

PRECISION_KEYS = ("INFERENCE_PRECISION_HINT", "DYNAMIC_QUANTIZATION_GROUP_SIZE")
EMBEDDINGS_SERVABLE = "_embeddings_model"
"""Suffix of the embeddings model's name in an OVMS `subconfig.json`."""


@dataclass(frozen=True, kw_only=True)
class GraphFiles:
    """The IRs and OpenVINO properties of one versioned embeddings graph directory."""

    tokenizer_xml: Path
    model_xml: Path
    plugin_config: dict[str, str]


def graph_files(graph_dir: Path) -> GraphFiles:
    """Read `subconfig.json` of an OVMS-style graph directory (tokenizer/1, embeddings/1).

    Raises:
        FileNotFoundError / KeyError: the directory is not such a graph.
    """
    subconfig = json.loads((graph_dir / "subconfig.json").read_text(encoding="utf-8"))
    plugin: dict[str, str] = {}
    for entry in subconfig["model_config_list"]:
        config = entry["config"]
        if config["name"].endswith(EMBEDDINGS_SERVABLE):
            plugin = {key: str(value) for key, value in config.get("plugin_config", {}).items()}
    return GraphFiles(
        tokenizer_xml=_version_dir(graph_dir / "tokenizer") / "model.xml",
        model_xml=_version_dir(graph_dir / "embeddings") / "model.xml",
        plugin_config=plugin,
    )


def _version_dir(path: Path) -> Path:
    versions = sorted((p for p in path.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    if not versions:
        raise FileNotFoundError(f"{path}: no numbered version directory")
    return versions[-1]


def precision_properties(plugin_config: dict[str, str]) -> dict[str, str]:
    """The plugin_config entries that change numbers, not speed alone (the arithmetic: f32 or
    bf16, int8 activations or not); the raw runs keep them and choose their own streams and
    performance hint."""
    return {key: value for key, value in plugin_config.items() if key in PRECISION_KEYS}


def property_text(value: Any) -> str:
    """An OpenVINO property value as text (`f32`, `bf16`, `LATENCY`, ...)."""
    name = getattr(value, "get_type_name", None)
    if callable(name):
        return str(name())
    return str(getattr(value, "name", value))


class RawEmbedder:
    """One compiled tokenizer and one compiled model.

    `embed` is synchronous and thread-safe when each thread passes its own infer request
    (`new_request()`); each thread gets its own tokenizer request on first use.
    """

    def __init__(self, files: GraphFiles, properties: dict[str, str], core: ov.Core | None = None) -> None:
        self.core = core or ov.Core()
        self.tokenizer = self.core.compile_model(str(files.tokenizer_xml), "CPU")
        self.model = self.core.compile_model(str(files.model_xml), "CPU", properties)
        self.optimal_requests = int(self.model.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.precision = property_text(self.model.get_property("INFERENCE_PRECISION_HINT"))
        self._input_names = {p.get_any_name() for p in self.model.inputs}
        self._local = threading.local()

    def new_request(self) -> ov.InferRequest:
        return self.model.create_infer_request()

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Token ids, mask and type ids, right-padded to the longest text."""
        # One tokenizer request per thread, made once: creating one per call costs more than
        # tokenizing a short text, and the servers keep theirs too.
        request = getattr(self._local, "tokenizer", None)
        if request is None:
            request = self._local.tokenizer = self.tokenizer.create_infer_request()
        outputs = request.infer({0: np.array(list(texts))})
        named = {key.get_any_name(): value for key, value in outputs.items()}
        return {name: value for name, value in named.items() if name in self._input_names}

    def embed(self, texts: Sequence[str], request: ov.InferRequest) -> tuple[np.ndarray, int]:
        """L2-normalized mean-pooled vectors of `texts` and the number of real tokens."""
        inputs = self.tokenize(texts)
        hidden = request.infer(inputs)[0]
        return pool(hidden, inputs["attention_mask"]), int(inputs["attention_mask"].sum())


def pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens, then L2 with eps 1e-12 (sentence-transformers' Normalize)."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    vectors = summed / counts
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    normalized: np.ndarray = (vectors / norms).astype(np.float32)
    return normalized
