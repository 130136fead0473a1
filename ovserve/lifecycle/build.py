"""Loading one graph for the repository: open it, note the models it resolves, warm it up.

The graph factory (`ovserve.graph_factory.GraphFactory` in the server) turns a `GraphSpec`
into a loaded graph; this module wraps it with what the lifecycle needs around every load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import openvino as ov

from ovserve.graph.resources import LoadedModel, ModelResolver
from ovserve.lifecycle.warmup import warm_up_graph
from ovserve.models import LoadedModelVersion, ModelManager
from ovserve.repository import Repository, ServableGraph
from ovserve.workspace import GraphSpec

log = logging.getLogger(__name__)

MakeGraph = Callable[[GraphSpec, ModelResolver, ov.Core], ServableGraph]
"""Parse, validate and open the graph of a spec, resolving models through the resolver (blocking)."""


class _RecordingResolver:
    """The model manager, noting every model a graph resolves while it loads."""

    def __init__(self, models: ModelManager) -> None:
        self._models = models
        self.names: set[str] = set()
        self.versions: set[LoadedModelVersion] = set()

    def resolve(self, name: str, version: int | None = None) -> LoadedModel:
        self.names.add(name)
        loaded = self._models.resolve(name, version)
        self.versions.add(loaded)
        return loaded


class GraphBuilder:
    """Loads graphs of one repository with the server's graph factory and OpenVINO core."""

    def __init__(self, make_graph: MakeGraph, core: ov.Core) -> None:
        self._make_graph = make_graph
        self._core = core

    def build(self, repository: Repository, spec: GraphSpec) -> ServableGraph | None:
        """Load and warm up the graph of `spec`; None (and the failure recorded) when it cannot.

        Blocking. A previous definition of the same name keeps serving after a failure.
        """
        resolver = _RecordingResolver(repository.models)
        try:
            loaded = self._make_graph(spec, resolver, self._core)
        except Exception as exc:  # a bad graph disables only itself
            log.error("graph %s failed to load: %s", spec.name, exc)
            repository.graphs.failed(spec.name, str(exc))
            return None
        repository.record_graph_models(spec.name, frozenset(resolver.names), frozenset(resolver.versions))
        warm_up_graph(spec.name, loaded)
        log.info("graph %s loaded from %s", spec.name, spec.graph_path)
        return loaded
