"""The generated graph-config messages, and loading every generated module into the pool.

`ensure_protos_loaded()` imports every `*_pb2` module under `ovserve._proto` (including the
calculators' own options, `ovserve._proto.ovserve.calculators.*`). Importing registers their
messages and proto2 extensions in protobuf's default descriptor pool, which is what
`text_format` consults for `[type.googleapis.com/pkg.Msg]` (Any) and `[pkg.Msg.ext]`
(extension) blocks. User calculators whose options live elsewhere only need their `_pb2`
module imported before the graph is parsed (importing the calculator module does that).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from ovserve._proto.mediapipe.framework.calculator_options_pb2 import CalculatorOptions
from ovserve._proto.mediapipe.framework.calculator_pb2 import CalculatorGraphConfig

NodeConfig = CalculatorGraphConfig.Node
"""One `node { ... }` of a graph.pbtxt (`mediapipe.CalculatorGraphConfig.Node`)."""

__all__ = ["CalculatorGraphConfig", "CalculatorOptions", "NodeConfig", "ensure_protos_loaded"]


@functools.cache
def ensure_protos_loaded() -> tuple[str, ...]:
    """Import every generated `_pb2` module once; return their names (sorted)."""
    import ovserve._proto as root

    names = sorted(
        info.name
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{root.__name__}.")
        if info.name.endswith("_pb2")
    )
    for name in names:
        importlib.import_module(name)
    return tuple(names)
