"""The repository: every servable of a workspace (graphs and plain models) and its state.

It is built from a validated `Workspace`, loads models before the graphs that use them
(as OVMS loads a subconfig before its graph), and reports one status per servable for
`/v1/config`. Loading blocks on OpenVINO, so `load` runs on a worker thread; the rest is
cheap and safe to call from the event loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

import openvino as ov

from ovserve import status
from ovserve.errors import NotFound, Unavailable
from ovserve.models import ModelManager
from ovserve.status import VersionStatus
from ovserve.workspace import GraphSpec, Workspace

log = logging.getLogger(__name__)


class ServableGraph(Protocol):
    """What the repository needs of a loaded graph."""

    def close(self) -> None: ...


GraphLoader = Callable[[GraphSpec, ModelManager, ov.Core], ServableGraph]


class Repository:
    """Owns the models and graphs of one workspace."""

    def __init__(self, workspace: Workspace, core: ov.Core, graph_loader: GraphLoader) -> None:
        self.workspace = workspace
        self.models = ModelManager(core)
        self._core = core
        self._graph_loader = graph_loader
        self._lock = threading.Lock()
        self._graphs: dict[str, ServableGraph] = {}
        self._graph_status: dict[str, VersionStatus] = {}
        self._rejected: dict[str, VersionStatus] = {}
        self.ready = False
        for warning in workspace.warnings:
            log.warning("%s", warning)
        for entry in workspace.rejected:
            log.error("%s", entry.message)
            if entry.name:
                self._rejected[entry.name] = status.load_failed(entry.message, graph=entry.kind == "graph")

    def load(self) -> None:
        """Load every model, then every graph; failures are recorded per servable, never raised.

        Blocking: call from a worker thread. Sets `ready` when done.
        """
        specs = self.workspace.all_models()
        self.models.mark_loading(specs)
        with self._lock:
            for graph in self.workspace.graphs:
                self._graph_status[graph.name] = status.loading()
        self.models.load(specs)
        for graph in self.workspace.graphs:
            self._load_graph(graph)
        self.ready = True

    def _load_graph(self, spec: GraphSpec) -> None:
        try:
            loaded = self._graph_loader(spec, self.models, self._core)
        except Exception as exc:  # a bad graph disables only itself
            log.error("graph %s failed to load: %s", spec.name, exc)
            with self._lock:
                self._graph_status[spec.name] = status.load_failed(str(exc), graph=True)
            return
        log.info("graph %s loaded from %s", spec.name, spec.graph_path)
        with self._lock:
            self._graphs[spec.name] = loaded
            self._graph_status[spec.name] = status.available()

    def graph(self, name: str) -> ServableGraph:
        """The loaded graph called `name`.

        Raises:
            NotFound: no graph of that name.
            Unavailable: it is still loading or failed to load.
        """
        with self._lock:
            graph = self._graphs.get(name)
            known = name in self._graph_status or name in self._rejected
        if graph is not None:
            return graph
        if known:
            raise Unavailable("Mediapipe is not loaded yet")
        raise NotFound("Mediapipe graph definition with requested name is not found")

    def statuses(self) -> dict[str, list[VersionStatus]]:
        """Every servable's versions: graphs (version 1), models, and rejected entries."""
        result: dict[str, list[VersionStatus]] = {name: [s] for name, s in self._rejected.items()}
        result.update(self.models.statuses())
        with self._lock:
            result.update({name: [s] for name, s in self._graph_status.items()})
        return result

    def close(self) -> None:
        with self._lock:
            graphs, self._graphs = list(self._graphs.values()), {}
        for graph in graphs:
            graph.close()
