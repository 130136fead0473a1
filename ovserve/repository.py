"""The repository: every servable of a workspace (graphs and plain models) and its state.

It is built from a validated `Workspace`, loads models before the graphs that use them
(as OVMS loads a subconfig before its graph), and reports one status per servable for
`/v1/config`. Loading blocks on OpenVINO, so `load` and `reload` run on a worker thread;
look-ups (`graph`, `graph_lease`, `models.lease`, `statuses`) are cheap and safe to call from
the event loop. Live changes (config edits, new or removed versions) go through `reload`,
see `ovserve.lifecycle`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Protocol

import openvino as ov

from ovserve import status
from ovserve.graph import GraphStats
from ovserve.graph.resources import LoadedModel, ModelResolver
from ovserve.lifecycle.graphs import GraphTable
from ovserve.lifecycle.reload import Reloader, ReloadOutcome
from ovserve.lifecycle.warmup import warm_up_graph
from ovserve.models import LoadedModelVersion, ModelManager
from ovserve.status import VersionStatus
from ovserve.workspace import GraphSpec, Workspace

log = logging.getLogger(__name__)


class ServableGraph(Protocol):
    """What the repository needs of a loaded graph."""

    def close(self) -> None: ...
    def stats(self) -> GraphStats: ...


GraphLoader = Callable[[GraphSpec, ModelResolver, ov.Core], ServableGraph]


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


class Repository:
    """Owns the models and graphs of one workspace.

    `workspace` is the workspace being served; a successful config reload replaces it.
    """

    def __init__(self, workspace: Workspace, core: ov.Core, graph_loader: GraphLoader) -> None:
        self.workspace = workspace
        self.models = ModelManager(core)
        self.graphs: GraphTable[ServableGraph] = GraphTable()
        self._core = core
        self._graph_loader = graph_loader
        self._rejected: dict[str, VersionStatus] = {}
        # Model names each served graph resolved when it loaded (subconfig or config.json ones),
        # and the exact versions its serving instance holds.
        self._graph_models: dict[str, frozenset[str]] = {}
        self._graph_versions: dict[str, frozenset[LoadedModelVersion]] = {}
        # Replaced model versions that a graph's serving instance still uses (its reload
        # failed), kept UNLOADING instead of END until that instance is replaced or retired.
        self._held: dict[str, list[LoadedModelVersion]] = {}
        # Readiness (`/v2/health/ready`, gRPC ServerReady): set once the start-up `load` has
        # installed or failed every entry, never reset (a reload does not make a server unready).
        self.ready = False
        self.closed = False
        self.reloader = Reloader(self)
        self.set_rejected(workspace)

    def load(self) -> None:
        """Load every model, then every graph; failures are recorded per servable, never raised.

        Blocking: call from a worker thread. Sets `ready` when done.
        """
        with self.reloader.lock:
            specs = self.workspace.all_models()
            self.models.mark_loading(specs)
            for graph in self.workspace.graphs:
                self.graphs.loading(graph.name)
            self.models.load(specs)
            for spec in self.workspace.graphs:
                loaded = self.build_graph(spec)
                if loaded is not None:
                    self.graphs.install(spec.name, loaded)
            self.reloader.remember(self.workspace)
            self.ready = True

    def reload(self, *, pause: float = 0.0, retry_failed_config: bool = True) -> ReloadOutcome:
        """Apply what changed on disk since the last pass (see `Reloader.run`). Blocking."""
        return self.reloader.run(pause=pause, retry_failed_config=retry_failed_config)

    def build_graph(self, spec: GraphSpec) -> ServableGraph | None:
        """Load and warm up the graph of `spec`; None (and the failure recorded) when it cannot.

        Blocking. A previous definition of the same name keeps serving after a failure.
        """
        resolver = _RecordingResolver(self.models)
        try:
            loaded = self._graph_loader(spec, resolver, self._core)
        except Exception as exc:  # a bad graph disables only itself
            log.error("graph %s failed to load: %s", spec.name, exc)
            self.graphs.failed(spec.name, str(exc))
            return None
        self._graph_models[spec.name] = frozenset(resolver.names)
        self._graph_versions[spec.name] = frozenset(resolver.versions)
        warm_up_graph(spec.name, loaded)
        log.info("graph %s loaded from %s", spec.name, spec.graph_path)
        return loaded

    def models_used_by(self, graph: str) -> frozenset[str]:
        """The models graph `graph` resolved when it last loaded (empty if it never did)."""
        return self._graph_models.get(graph, frozenset())

    def hold_used(self, graph: str, released: list[LoadedModelVersion]) -> list[LoadedModelVersion]:
        """Keep the versions of `released` that graph `graph`'s serving instance uses; return the rest.

        For a graph whose reload failed: its previous instance keeps serving on the versions it
        resolved, so those are not drained (they stay UNLOADING) until `release_held`.
        """
        used = self._graph_versions.get(graph, frozenset())
        kept = [obj for obj in released if obj in used]
        if kept:
            self._held.setdefault(graph, []).extend(o for o in kept if o not in self._held.get(graph, []))
            for obj in kept:
                log.warning(
                    "model %s version %d stays loaded: graph %s still serves on it (its reload failed)",
                    obj.name,
                    obj.version,
                    graph,
                )
        return [obj for obj in released if obj not in used]

    def release_held(self, graph: str) -> list[LoadedModelVersion]:
        """The versions held for `graph` (see `hold_used`) that no other graph holds, to drain
        now that its old instance was replaced or retired."""
        mine = self._held.pop(graph, [])
        others = {obj for kept in self._held.values() for obj in kept}
        return [obj for obj in mine if obj not in others]

    def set_rejected(self, workspace: Workspace) -> None:
        """Log and remember the entries `workspace` disabled (shown in `statuses`)."""
        for warning in workspace.warnings:
            log.warning("%s", warning)
        rejected: dict[str, VersionStatus] = {}
        for entry in workspace.rejected:
            log.error("%s", entry.message)
            if entry.name:
                rejected[entry.name] = status.load_failed(entry.message, graph=entry.kind == "graph")
        self._rejected = rejected

    def graph(self, name: str) -> ServableGraph:
        """The graph serving `name`.

        Raises:
            NotFound: no graph of that name (or `Mediapipe is retired`).
            Unavailable: it is still loading or failed to load.
        """
        return self.graphs.get(name)

    @contextlib.contextmanager
    def graph_lease(self, name: str) -> Iterator[ServableGraph]:
        """`graph`, held open until the block exits even if a reload replaces it. Raises as `graph`."""
        with self.graphs.lease(name) as graph:
            yield graph

    def is_graph(self, name: str) -> bool:
        """True for every graph name configured now or earlier (retired graphs included)."""
        return name in self.graphs.names() or any(g.name == name for g in self.workspace.graphs)

    def statuses(self) -> dict[str, list[VersionStatus]]:
        """Every servable's versions: graphs (version 1), models, and rejected entries."""
        result: dict[str, list[VersionStatus]] = {name: [s] for name, s in self._rejected.items()}
        result.update(self.models.statuses())
        result.update({name: [s] for name, s in self.graphs.statuses().items()})
        return result

    def close(self) -> None:
        """Close every graph; waits for a running reload to finish first. Blocking."""
        with self.reloader.lock:
            self.closed = True
            graphs = self.graphs.take_all()
        for graph in graphs:
            graph.close()
