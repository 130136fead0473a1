"""The graph engine: graph.pbtxt → validated DAG of calculators → runs.

Public API (see `ovserve.graph.calculator` for the calculator spec):

* Writing calculators: `Calculator`, `ResourceCalculator`, `Subgraph`, `CalculatorContract`,
  `CalculatorContext`, `GraphLoadContext`, `ExpandContext`, ports (`Input`, `Output`,
  `InputSidePacket`, `OutputSidePacket`), `register_calculator`, `CalculatorRegistry`,
  `default_registry`.
* What the server provides: `ModelResolver`, `LoadedModel`.

This package imports neither aiohttp nor grpc (tests/test_layering.py).
"""

from __future__ import annotations

from ovserve.graph.calculator import (
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
from ovserve.graph.registry import CalculatorRegistry, default_registry, register_calculator

__all__ = [
    "Calculator",
    "CalculatorContext",
    "CalculatorContract",
    "CalculatorRegistry",
    "ExpandContext",
    "GraphLoadContext",
    "Input",
    "InputSidePacket",
    "LoadedModel",
    "ModelResolver",
    "NodeConfig",
    "Output",
    "OutputSidePacket",
    "Port",
    "ResourceCalculator",
    "Subgraph",
    "default_registry",
    "port_key",
    "register_calculator",
]
