"""`NodeGate`: the runs of one graph that wait at a batch-capable node go through it together.

A graph run executes its nodes on the worker thread of its request (`ovserve.graph.runner`).
When it reaches a node whose calculator processes in batches (`BatchCalculator`, declared by
`CalculatorContract.process_in_batches`), it passes the node's gate:

* If no run is being led through the gate, the run's thread leads: it takes every run
  waiting there (oldest first, at most the node's `max_runs`), has the engine run the node
  once for all of them (`carry`), and the engine carries them on together through the
  batch-capable nodes that follow, on this thread. Then each run it carried is woken at the
  node where it stopped (the first per-run node, or the end of the graph).
* If a run is being led, the arriving run waits; when the leader is done, the oldest
  waiting run's thread leads the next batch with whatever has queued meanwhile.

So a lone run passes at once on its own thread (no hop, no wait, no timer), and runs that
arrive together, e.g. the requests of one merged inference coming out of the batcher, go
through pooling, normalization and the response node in one call each, and their threads
wake once instead of once per node. Each waiting run sleeps on its own condition (all share
the gate's lock), so a batch wakes only the runs it carried plus one run to lead the next.

Only gathering is serialized: runs carried on past a later node's gate do not enter it, so
`process_batch` may run for several batches of one node at once. Batch calculators keep no
per-run state, which makes that safe.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ovserve.graph.request_scope import RequestScope


@dataclass(eq=False)
class WaitingRun:
    """One graph run at a gate.

    Attributes:
        packets: the run's packets by stream name; the thread carrying the run adds to it.
        scope: the run's client request, if any.
        step: index (in the graph's plan) of the node the run is at; the carrying thread
            moves it to the node where the run resumes on its own thread.
        error: set when a node failed for this run; the run then stops.
    """

    packets: dict[str, object]
    scope: RequestScope | None
    step: int
    wake: threading.Condition
    error: BaseException | None = None
    done: bool = False
    sleeping: bool = False


Carry = Callable[[list[WaitingRun]], None]
"""Runs a batch from the gate's node on: sets each run's `step` (or `error`)."""


class NodeGate:
    """The runs waiting at one node; thread-safe. See the module docstring.

    Args:
        max_runs: most runs led through at once.
    """

    def __init__(self, max_runs: int) -> None:
        if max_runs < 1:
            raise ValueError("a gate takes at least one run at a time")
        self.max_runs = max_runs
        self._lock = threading.Lock()
        self._pending: list[WaitingRun] = []
        self._busy = False
        self._sizes: collections.Counter[int] = collections.Counter()

    def record_call(self, runs: int) -> None:
        """Count one `process_batch` call of the node for `runs` runs (led or carried here)."""
        with self._lock:
            self._sizes[runs] += 1

    def call_size_counts(self) -> dict[int, int]:
        """The node's calls so far by their number of runs (a copy; `Graph.stats`)."""
        with self._lock:
            return dict(self._sizes)

    @property
    def waiting(self) -> int:
        """Runs queued at the gate now, not yet taken into a batch."""
        with self._lock:
            return len(self._pending)

    def arrive(self, packets: dict[str, object], scope: RequestScope | None, step: int) -> WaitingRun:
        """A run at this gate (call `pass_through` with it)."""
        return WaitingRun(packets, scope, step, threading.Condition(self._lock))

    def pass_through(self, run: WaitingRun, carry: Carry) -> None:
        """Block until `run` has been carried on, by this thread or another.

        Afterwards `run.error` is set, or `run.step` names the node where the caller goes
        on. `carry` must move each run it gets on or fail it; if it raises, every run of its
        batch fails with that exception, and a `BaseException` is raised here too.
        """
        with self._lock:
            self._pending.append(run)
        while True:
            with self._lock:
                while not run.done and (self._busy or not self._pending):
                    run.sleeping = True
                    try:
                        run.wake.wait()
                    finally:
                        run.sleeping = False
                if run.done:
                    return
                self._busy = True
                batch = self._pending[: self.max_runs]
                del self._pending[: self.max_runs]
            try:
                carry(batch)
            except BaseException as exc:
                for other in batch:
                    if other.error is None:
                        other.error = exc
                if not isinstance(exc, Exception):
                    self._release(batch)
                    raise
            self._release(batch)

    def _release(self, batch: list[WaitingRun]) -> None:
        """Mark `batch` done, wake its sleeping runs and the oldest waiting one to lead."""
        with self._lock:
            self._busy = False
            for other in batch:
                other.done = True
                if other.sleeping:
                    other.wake.notify()
            for waiting in self._pending:
                if waiting.sleeping:
                    waiting.wake.notify()
                    break
