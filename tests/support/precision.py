"""Tolerances that follow from what a compiled model runs (`ovserve.runtime.execution`).

A test that compares vectors reads the `Execution` back from the graph it runs and takes its
tolerance from there, so it holds on a CPU that runs bf16 and int8 activations and on one that
runs f32, each for its own reason.
"""

from __future__ import annotations

from pathlib import Path

from calculators.feature_extraction_calculator import Extraction
from ovserve.graph.node_loading import default_core
from ovserve.graph.runner import Graph
from ovserve.models.version import load_version
from ovserve.runtime.execution import Execution
from ovserve.workspace import read_workspace, scan_versions

F32_MIN_COSINE = 0.99999
"""fp32 weights at f32 against sentence-transformers (torch, f32): measured 1.0000000."""
BF16_MIN_COSINE = 0.9999
"""fp32 weights at bf16: measured 0.99996 on an AVX-512 bf16 CPU."""
COMPRESSED_MIN_COSINE = 0.997
"""int8 weight-only, at any precision: measured 0.9974-0.9988 depending on the CPU; the int8
weights, not the arithmetic, set it (the empty string is the worst text on both kinds)."""


def execution_of(graph: Graph) -> Execution:
    """What the graph's one feature-extraction node's model runs, read back at its load."""
    found = [state.execution for state in graph.node_states().values() if isinstance(state, Extraction)]
    assert len(found) == 1, f"expected one feature-extraction node, found {len(found)}"
    return found[0]


def min_cosine_against_reference(execution: Execution) -> float:
    """The smallest cosine to `SentenceTransformer.encode()` (f32 torch) that `execution` allows."""
    if execution.compressed_weights:
        return COMPRESSED_MIN_COSINE
    return F32_MIN_COSINE if execution.exact else BF16_MIN_COSINE


def served_execution(config: Path) -> Execution:
    """What the embeddings model of the one graph in the versioned workspace `config` runs when
    a server on this machine compiles it with its subconfig's plugin_config."""
    (graph,) = read_workspace(config).graphs
    (spec,) = [m for m in graph.models if m.name.endswith("_embeddings_model")]
    versions, _ = scan_versions(spec.base_path)
    loaded = load_version(default_core(), spec, versions[-1])
    return Execution.of(loaded.compiled, loaded.model)
