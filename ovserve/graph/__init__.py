"""The graph engine: graph.pbtxt → validated DAG of calculators → runs.

Public API (see `ovserve.graph.calculator` for the calculator spec):

* Writing calculators: `Calculator`, `BatchCalculator`, `ResourceCalculator`, `Subgraph`,
  `CalculatorContract`, `CalculatorContext`, `GraphLoadContext`, `ExpandContext`, ports (`Input`, `Output`,
  `InputSidePacket`, `OutputSidePacket`), `register_calculator`, `CalculatorRegistry`,
  `default_registry`.
* What the server provides: `ModelResolver`, `LoadedModel`, graph services (`GraphServices`
  with keys such as `BATCHING` → `BatchSettings`).
* Packet types the streams carry: `ovserve.graph.formats`; per-request facts:
  `ovserve.graph.request_scope`.
* Loading and running: `load_graph(source, resolver=..., registry=..., core=..., executor=...)`
  → `Graph` (`await graph.run({"input": payload})`, `graph.stats()`, `graph.close()`), `NodeExecutor`,
  `import_calculator_modules(names)`; lower level `parse_graph_file`, `validate_graph`.

This package imports neither aiohttp nor grpc (tests/test_layering.py).
"""

from __future__ import annotations

from ovserve.graph.calculator import (
    BatchCalculator,
    Calculator,
    CalculatorContext,
    CalculatorContract,
    ExpandContext,
    GraphLoadContext,
    Input,
    InputSidePacket,
    LoadedModel,
    ModelResolver,
    NodeConfig,
    Output,
    OutputSidePacket,
    Port,
    ResourceCalculator,
    Subgraph,
    port_key,
)
from ovserve.graph.executor import NodeExecutor
from ovserve.graph.modules import import_calculator_modules
from ovserve.graph.parser import ParsedGraph, parse_graph_file, parse_graph_text
from ovserve.graph.registry import CalculatorRegistry, default_registry, register_calculator
from ovserve.graph.runner import Graph, GraphSource, load_graph
from ovserve.graph.services import (
    BATCHING,
    EMBEDDING_CACHE_MIB,
    BatchSettings,
    GraphService,
    GraphServices,
)
from ovserve.graph.stats import CacheCounts, GraphStats, ReportsBatches, ReportsCache
from ovserve.graph.validation import ValidatedGraph, validate_graph

__all__ = [
    "BATCHING",
    "EMBEDDING_CACHE_MIB",
    "BatchCalculator",
    "BatchSettings",
    "CacheCounts",
    "Calculator",
    "CalculatorContext",
    "CalculatorContract",
    "CalculatorRegistry",
    "ExpandContext",
    "Graph",
    "GraphLoadContext",
    "GraphService",
    "GraphServices",
    "GraphSource",
    "GraphStats",
    "Input",
    "InputSidePacket",
    "LoadedModel",
    "ModelResolver",
    "NodeConfig",
    "NodeExecutor",
    "Output",
    "OutputSidePacket",
    "ParsedGraph",
    "Port",
    "ReportsBatches",
    "ReportsCache",
    "ResourceCalculator",
    "Subgraph",
    "ValidatedGraph",
    "default_registry",
    "import_calculator_modules",
    "load_graph",
    "parse_graph_file",
    "parse_graph_text",
    "port_key",
    "register_calculator",
    "validate_graph",
]
