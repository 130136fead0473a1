"""The served graphs of a repository, with leases so a replaced graph drains before it closes.

`Graph.close` waits only for runs that have started; a request that looked the graph up and
is still queued for the executor would find it closed. A lease covers the whole request, from
look-up to answer, so a graph replaced by a reload is closed only once nobody holds it.

Thread safety: every method may be called from any thread; `drain` blocks.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Generic, Protocol, TypeVar

from ovserve import status
from ovserve.errors import NotFound, Unavailable
from ovserve.status import StatusCode, VersionState, VersionStatus

log = logging.getLogger(__name__)


class Closable(Protocol):
    def close(self) -> None: ...


G = TypeVar("G", bound=Closable)


class GraphTable(Generic[G]):
    """Graph name → the graph serving it now, its status, and whether it was retired."""

    def __init__(self) -> None:
        # Held through the plain lock (a Condition's own `with` is Python code, and `lease`
        # takes it twice per request); the Condition on it is for `drain`'s wait only.
        self._lock = threading.RLock()
        self._released = threading.Condition(self._lock)
        self._graphs: dict[str, G] = {}
        self._status: dict[str, VersionStatus] = {}
        self._leases: dict[int, int] = {}  # id(graph) → requests holding it

    def names(self) -> set[str]:
        """Every graph name ever configured, served or not (retired ones included)."""
        with self._lock:
            return set(self._status)

    def statuses(self) -> dict[str, VersionStatus]:
        with self._lock:
            return dict(self._status)

    def current(self, name: str) -> G | None:
        with self._lock:
            return self._graphs.get(name)

    def get(self, name: str) -> G:
        """The graph serving `name`.

        Raises:
            NotFound: unknown (`Mediapipe graph definition with requested name is not found`)
                or removed from the config (`Mediapipe is retired`).
            Unavailable: `Mediapipe is not loaded yet` (loading, or failed to load).
        """
        with self._lock:
            return self._get_locked(name)

    def _get_locked(self, name: str) -> G:
        graph = self._graphs.get(name)
        if graph is not None:
            return graph
        state = self._status.get(name)
        if state is None:
            raise NotFound("Mediapipe graph definition with requested name is not found")
        if state.state >= VersionState.UNLOADING:
            raise NotFound("Mediapipe is retired")
        raise Unavailable("Mediapipe is not loaded yet")

    def lease(self, name: str) -> contextlib.AbstractContextManager[G]:
        """`get`, and keep the graph open until the block exits. Raises as `get` on entry."""
        return _Lease(self, name)

    def _acquire(self, name: str) -> G:
        with self._lock:
            graph = self._get_locked(name)
            self._leases[id(graph)] = self._leases.get(id(graph), 0) + 1
        return graph

    def _release(self, graph: G) -> None:
        with self._lock:
            self._leases[id(graph)] -= 1
            if not self._leases[id(graph)]:
                del self._leases[id(graph)]
                self._released.notify_all()

    def loading(self, name: str) -> None:
        """Show `name` as LOADING unless a previous definition is serving."""
        with self._lock:
            if name not in self._graphs:
                self._status[name] = status.loading()

    def install(self, name: str, graph: G) -> G | None:
        """Serve `graph` as `name` from now on; return the graph it replaces (to `drain`)."""
        with self._lock:
            old = self._graphs.get(name)
            self._graphs[name] = graph
            self._status[name] = status.available()
        return old

    def failed(self, name: str, message: str) -> None:
        """Record a failed load. A previous definition keeps serving; the status says why."""
        with self._lock:
            if name in self._graphs:
                detail = f"reload failed, the previous definition keeps serving: {message}"
                self._status[name] = VersionStatus(
                    version=1,
                    state=VersionState.AVAILABLE,
                    code=StatusCode.FAILED_PRECONDITION,
                    details=detail,
                )
            else:
                self._status[name] = status.load_failed(message, graph=True)

    def has_failed(self, name: str) -> bool:
        with self._lock:
            state = self._status.get(name)
            return state is not None and state.code != StatusCode.OK

    def retire(self, name: str) -> G | None:
        """Stop serving `name` (removed from the config): new requests get `Mediapipe is retired`."""
        with self._lock:
            old = self._graphs.pop(name, None)
            self._status[name] = VersionStatus(version=1, state=VersionState.END)
        log.info("graph %s retired", name)
        return old

    def forget(self, name: str) -> None:
        """Drop every trace of `name` (a graph name that became a model or a rejected entry)."""
        with self._lock:
            self._graphs.pop(name, None)
            self._status.pop(name, None)

    def drain(self, graph: G, timeout: float = 30.0) -> None:
        """Wait (up to `timeout` s) until no request holds `graph`, then close it. Blocking."""
        with self._lock:
            if not self._released.wait_for(lambda: id(graph) not in self._leases, timeout):
                log.warning("closing a graph with requests still in flight")
        graph.close()

    def take_all(self) -> list[G]:
        """Remove every served graph (server shutdown); the caller closes them."""
        with self._lock:
            graphs, self._graphs = list(self._graphs.values()), {}
        return graphs


class _Lease(Generic[G]):
    """`GraphTable.lease`'s context manager (a class: a generator-based one costs more per request)."""

    __slots__ = ("_graph", "_name", "_table")

    def __init__(self, table: GraphTable[G], name: str) -> None:
        self._table = table
        self._name = name
        self._graph: G | None = None

    def __enter__(self) -> G:
        self._graph = self._table._acquire(self._name)
        return self._graph

    def __exit__(self, *exc_info: object) -> None:
        if self._graph is not None:
            self._table._release(self._graph)
            self._graph = None
