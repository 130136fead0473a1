"""`NodeGate`: the runs of one graph that wait at a batch-capable node go through it together.

A graph run executes its nodes on the worker thread of its request (`ovserve.graph.runner`).
When it reaches a node whose calculator processes in batches (`BatchCalculator`, declared by
`CalculatorContract.process_in_batches`), it passes the node's gate, a `Coalescer` of runs:

* If no run is being led through the gate, the run's thread leads: it takes every run
  waiting there (oldest first, at most the node's `max_runs`), has the engine run the node
  once for all of them (`carry`), and the engine carries them on together through the
  batch-capable nodes that follow, on this thread. Then each run it carried is woken at the
  node where it stopped (the first per-run node, or the end of the graph).
* If a run is being led, the arriving run waits; when the leader is done, the oldest
  waiting run's thread leads the next batch with whatever has queued meanwhile.

So a lone run passes at once on its own thread (no hop, no wait, no timer), and runs that
queue at a node go through it, and the batch-capable nodes after it, in one call each, and
their threads wake once instead of once per node. Whether runs queue depends on the load:
`ovserve_node_batch_runs` shows it (benchmarks/README.md measured one run per call under W2,
where runs leave the model's batcher one by one).

A node that waits on a shared device (`process_in_batches(waits=True)`, the model) has a
gate that does not gather: a carry stops before it, every run passes it at once, and the runs
meet inside the node (in the model's batcher) instead, so that a batch that waits for the
model never holds back the next one. Graphs whose every node batches skip the gates' waiting
altogether and take requests at their entry (`ovserve.graph.entry`).

Only gathering is serialized: runs carried on past a later node's gate do not enter it, so
`process_batch` may run for several batches of one node at once. Batch calculators keep no
per-run state, which makes that safe.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ovserve.graph.coalesce import Coalescer
from ovserve.graph.request_scope import RequestScope

UNGATHERED_SLOTS = 1 << 20
"""Leaders allowed at once at a gate that does not gather: in effect, no limit."""


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
    error: BaseException | None = None


Carry = Callable[[list[WaitingRun]], None]
"""Runs a batch from the gate's node on: sets each run's `step` (or `error`)."""


class NodeGate:
    """The runs waiting at one node; thread-safe. See the module docstring.

    Args:
        max_runs: most runs led through at once.
        carry: what the leading thread does with a batch. It must move each run on or fail
            it; if it raises, the batch's runs are carried again one by one, and a run whose
            carry raises fails with that exception.
        gathers: runs queue while one is led through. False for a node that waits on a
            shared device (`process_in_batches(waits=True)`): every run passes at once and
            the runs meet inside the node (e.g. in the model's batcher) instead.
    """

    def __init__(self, max_runs: int, carry: Carry, *, gathers: bool = True) -> None:
        if max_runs < 1:
            raise ValueError("a gate takes at least one run at a time")
        self._queue: Coalescer[WaitingRun, None, None] = Coalescer(
            carry, _no_result, slots=1 if gathers else UNGATHERED_SLOTS, max_items=max_runs
        )
        self._lock = threading.Lock()
        self._sizes: collections.Counter[int] = collections.Counter()

    @property
    def waiting(self) -> int:
        """Runs queued at the gate now, not yet taken into a batch."""
        return self._queue.queued

    def pass_through(self, run: WaitingRun) -> None:
        """Block until `run` has been carried on, by this thread or another.

        Afterwards `run.error` is set, or `run.step` names the node where the caller goes on.
        A `BaseException` raised while carrying the run's batch is raised here too.
        """
        try:
            self._queue([run])
        except Exception as exc:
            if run.error is None:
                run.error = exc

    def record_call(self, runs: int) -> None:
        """Count one `process_batch` call of the node for `runs` runs (led or carried here)."""
        with self._lock:
            self._sizes[runs] += 1

    def call_size_counts(self) -> dict[int, int]:
        """The node's calls so far by their number of runs (a copy; `Graph.stats`)."""
        with self._lock:
            return dict(self._sizes)


def _no_result(_merged: None, _start: int, _stop: int) -> None:
    """A carried run's result is in the run itself."""
