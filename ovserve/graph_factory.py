"""From the repository's specs to the graph engine: one `GraphSpec` in, one loaded graph out.

The one module of `ovserve` that imports `calculators` (registering the built-in calculators);
tests/test_layering.py holds it to that.
"""

from __future__ import annotations

import openvino as ov

import calculators  # noqa: F401  (importing the package registers the built-in calculators)
from ovserve.graph import runner
from ovserve.graph.executor import NodeExecutor
from ovserve.graph.resources import ModelResolver
from ovserve.graph.services import GraphServices
from ovserve.workspace import GraphSpec


class GraphFactory:
    """Loads graphs whose runs share one executor (the calculator threads the server owns)
    and get the server's graph services."""

    def __init__(self, executor: NodeExecutor, services: GraphServices | None = None) -> None:
        self._executor = executor
        self._services = services or GraphServices()

    def __call__(self, spec: GraphSpec, models: ModelResolver, core: ov.Core) -> runner.Graph:
        """Parse, validate and open the graph of `spec`. Blocking; raises when it cannot be served."""
        return runner.load_graph(
            spec, resolver=models, core=core, executor=self._executor, services=self._services
        )
