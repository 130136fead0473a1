"""The repository: the served state of one workspace, passive and lockable.

It holds what is being served: the workspace (`workspace`), its plain models and their
versions (`models`, an `ovserve.models.ModelManager`), its loaded graphs (`graphs`, a
`GraphTable`), the entries the workspace rejected, and which model versions each graph runs
on. It decides nothing and loads nothing: `ovserve.lifecycle` brings it from empty to the
start-up workspace and from one workspace to the next (see `ovserve.lifecycle.apply` for
the ordering rules of a swap), holding `lock` for each pass.

Look-ups (`graph`, `graph_lease`, `models.lease`, `statuses`) are cheap, never wait for `lock`
and are safe to call from the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Protocol

from ovserve import status
from ovserve.graph import GraphStats
from ovserve.models import LoadedModelVersion, ModelManager
from ovserve.repository.graph_table import GraphTable
from ovserve.status import VersionStatus
from ovserve.workspace import Workspace

__all__ = ["GraphTable", "Repository", "ServableGraph", "ServedView"]

log = logging.getLogger(__name__)


class ServableGraph(Protocol):
    """What the repository needs of a loaded graph."""

    def close(self) -> None: ...
    def stats(self) -> GraphStats: ...


class ServedView(Protocol):
    """What the data plane reads of the repository; `Repository` implements it.

    Read-only, cheap, safe on the event loop: the data plane never changes what is served.
    """

    @property
    def ready(self) -> bool: ...
    @property
    def workspace(self) -> Workspace: ...
    @property
    def models(self) -> ModelManager: ...
    def statuses(self) -> dict[str, list[VersionStatus]]: ...
    def graph(self, name: str) -> ServableGraph: ...
    def graph_lease(self, name: str) -> contextlib.AbstractContextManager[ServableGraph]: ...
    def is_graph(self, name: str) -> bool: ...
    def models_used_by(self, graph: str) -> frozenset[str]: ...


class Repository:
    """The models and graphs of one workspace, and their states.

    Attributes:
        workspace: the workspace configured now (the start-up one, then each applied reload).
        models: plain models by name and version.
        graphs: loaded graphs by name, with leases so a replaced graph drains before it closes.
        lock: held by whoever changes what is served (a lifecycle pass, `close`).
        ready: every entry of the start-up workspace has loaded or failed (readiness probes);
            set once, never reset.
        closed: `close` ran; nothing is loaded after that.
    """

    def __init__(self, workspace: Workspace, models: ModelManager) -> None:
        self.workspace = workspace
        self.models = models
        self.graphs: GraphTable[ServableGraph] = GraphTable()
        self.lock = threading.RLock()
        self.ready = False
        self.closed = False
        self._rejected: dict[str, VersionStatus] = {}
        # Model names each served graph resolved when it loaded (subconfig or config.json ones),
        # and the exact versions its serving instance holds.
        self._graph_models: dict[str, frozenset[str]] = {}
        self._graph_versions: dict[str, frozenset[LoadedModelVersion]] = {}
        # Replaced model versions that a graph's serving instance still uses (its reload
        # failed), kept UNLOADING instead of END until that instance is replaced or retired.
        self._held: dict[str, list[LoadedModelVersion]] = {}
        self.set_rejected(workspace)

    def record_graph_models(
        self, graph: str, names: frozenset[str], versions: frozenset[LoadedModelVersion]
    ) -> None:
        """Note the models (by name) and exact versions graph `graph` resolved when it loaded."""
        self._graph_models[graph] = names
        self._graph_versions[graph] = versions

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

    def graph_lease(self, name: str) -> contextlib.AbstractContextManager[ServableGraph]:
        """`graph`, held open until the block exits even if a reload replaces it. Raises as
        `graph` on entry."""
        return self.graphs.lease(name)

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
        """Close every graph; waits for a running lifecycle pass to finish first. Blocking."""
        with self.lock:
            self.closed = True
            graphs = self.graphs.take_all()
        for graph in graphs:
            graph.close()
