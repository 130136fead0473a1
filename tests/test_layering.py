"""Imports point one way: front ends → data plane → repository → engine → calculators.

Two checks. Statically (every `import` of every module, also those inside functions and under
`TYPE_CHECKING`): the calculators import only the engine's public parts, the neutral types and
the shared OpenVINO runtime; the engine imports no calculator and nothing above it; and
`ovserve` imports `calculators` only where graphs are loaded. Dynamically, in fresh interpreters
(this test process may already have imported them): the core loads no web or RPC framework.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Which first-party modules each part of the tree may import (prefixes; its own part always).
CALCULATORS_MAY_IMPORT = (
    "ovserve.graph",
    "ovserve.errors",
    "ovserve.types",
    "ovserve.runtime",
    "ovserve._proto",
)
ENGINE_MAY_IMPORT = ("ovserve.graph", "ovserve.errors", "ovserve.runtime", "ovserve._proto")
RUNTIME_MAY_IMPORT = ("ovserve.runtime", "ovserve.errors")
# The one module of `ovserve` that imports `calculators`: importing it registers the built-ins.
LOADS_GRAPHS = "ovserve/graph_factory.py"


def first_party_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import of `ovserve` or `calculators` in `path`."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ("ovserve", "calculators"):
                yield node.lineno, name


def outside(paths: list[Path], allowed: tuple[str, ...]) -> list[str]:
    """`file:line module` for each import in `paths` of a first-party module not in `allowed`."""
    found = []
    for path in paths:
        for line, name in first_party_imports(path):
            if not any(name == prefix or name.startswith(prefix + ".") for prefix in allowed):
                where = path.relative_to(REPO) if path.is_relative_to(REPO) else path
                found.append(f"{where}:{line} {name}")
    return found


def sources(part: str) -> list[Path]:
    return sorted(p for p in (REPO / part).rglob("*.py") if "_proto" not in p.parts)


def test_calculators_import_only_the_engine_the_types_and_the_runtime() -> None:
    assert outside(sources("calculators"), ("calculators", *CALCULATORS_MAY_IMPORT)) == []


def test_the_engine_imports_no_calculator_and_nothing_above_it() -> None:
    assert outside(sources("ovserve/graph"), ENGINE_MAY_IMPORT) == []


def test_the_runtime_helpers_import_only_themselves() -> None:
    assert outside(sources("ovserve/runtime"), RUNTIME_MAY_IMPORT) == []


def test_ovserve_imports_calculators_only_where_graphs_are_loaded() -> None:
    found = outside([p for p in sources("ovserve") if p != REPO / LOADS_GRAPHS], ("ovserve",))
    assert found == []


def test_front_ends_reach_what_is_served_only_through_the_data_plane() -> None:
    behind_the_door = ("ovserve.repository", "ovserve.lifecycle", "ovserve.models", "ovserve.workspace")
    found = [
        line
        for line in outside(sources("ovserve/frontends"), ())
        if line.split()[-1].startswith(behind_the_door) or line.split()[-1] == "ovserve.graph.runner"
    ]
    assert found == []


def test_an_upward_import_is_caught_even_inside_a_function(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import ovserve.graph\n\n\ndef f():\n    from ovserve.repository import Repository\n")
    assert outside([probe], CALCULATORS_MAY_IMPORT) == [f"{probe}:5 ovserve.repository"]


CORE = [
    "ovserve.errors",
    "ovserve.workspace",
    "ovserve.graph",
    "ovserve.testing",
    "calculators",
    "ovserve.models",
    "ovserve.repository",
    "ovserve.runtime",
    "ovserve.status",
    "ovserve.types",
    "ovserve.dataplane",
    "ovserve.listing",
    "ovserve.graph_contract",
    "ovserve.rerank_contract",
    "ovserve.lifecycle",
    "ovserve.security",
    # Shared by both front ends, so tied to neither framework.
    "ovserve.admission",
    "ovserve.frontends.request_ids",
]

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def modules_loaded_by(modules: list[str]) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *modules], check=True, capture_output=True, text=True, timeout=120
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def offending(loaded: list[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] in forbidden)


def test_core_layers_import_no_web_or_rpc_framework() -> None:
    loaded = modules_loaded_by(CORE)
    assert offending(loaded, ("aiohttp", "grpc", "grpc_tools", "multidict", "yarl")) == []
    assert "ovserve.graph" in loaded


@pytest.mark.parametrize(
    ("front_end", "forbidden"),
    [("ovserve.frontends.rest", ("grpc", "grpc_tools")), ("ovserve.frontends.grpc", ("aiohttp",))],
)
def test_each_front_end_imports_only_its_own_framework(front_end: str, forbidden: tuple[str, ...]) -> None:
    assert offending(modules_loaded_by([front_end]), forbidden) == []


def test_the_server_runtime_needs_no_export_stack() -> None:
    """torch, transformers and optimum belong to the `export` extra, never to serving."""
    loaded = modules_loaded_by(["ovserve.server", "ovserve.cli"])
    assert offending(loaded, ("torch", "transformers", "optimum", "nncf", "sentence_transformers")) == []
