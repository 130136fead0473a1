"""Adapter from the repository to the graph engine: one `GraphSpec` in, one loaded graph out."""

from __future__ import annotations

import openvino as ov

from ovserve.errors import Unavailable
from ovserve.models import ModelManager
from ovserve.repository import ServableGraph
from ovserve.workspace import GraphSpec


def load_graph(spec: GraphSpec, models: ModelManager, core: ov.Core) -> ServableGraph:
    """Parse, validate and open the graph of `spec`; raises when it cannot be served."""
    raise Unavailable("the graph engine is not part of this build yet")
