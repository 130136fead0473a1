"""Imports point one way: the core imports no front-end framework (house style §7.6).

Checked in fresh interpreters, since this test process may already have imported them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE = [
    "ovserve.errors",
    "ovserve.workspace",
    "ovserve.graph",
    "ovserve.testing",
    "calculators",
    "ovserve.models",
    "ovserve.repository",
    "ovserve.status",
    "ovserve.types",
    "ovserve.dataplane",
    "ovserve.lifecycle",
    "ovserve.security",
    # Shared by both front ends, so tied to neither framework.
    "ovserve.frontends.guard",
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
