"""The engine layers import no web or RPC framework (house style §7.6).

Checked in a fresh interpreter, since this test process may already have imported them.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

# Always checked: the graph engine and the built-in calculators. The others are checked
# when they exist in this tree.
REQUIRED = ["ovserve.graph", "ovserve.testing", "calculators"]
OPTIONAL = ["ovserve.errors", "ovserve.workspace", "ovserve.types", "ovserve.dataplane"]
FORBIDDEN = ("aiohttp", "grpc", "grpc_tools", "multidict", "yarl")

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    import calculators  # registering the built-ins must not pull them in either
print(json.dumps(sorted(sys.modules)))
"""


def test_core_layers_import_no_web_or_rpc_framework() -> None:
    modules = REQUIRED + [m for m in OPTIONAL if importlib.util.find_spec(m) is not None]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *modules], check=True, capture_output=True, text=True, timeout=120
    )
    loaded = json.loads(out.stdout)
    offending = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN or m.startswith(("aiohttp", "grpc")))
    assert offending == [], f"{modules} pulled in {offending}"
    assert "ovserve.graph" in loaded
