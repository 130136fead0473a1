"""`EntryQueue`: a graph whose every node batches takes its requests at the entry, many per job.

When every node a request runs is batch-capable (`BatchCalculator`) and one of them waits for a
shared device (`process_in_batches(waits=True)`, the model), a run needs no thread of its own.
The event loop appends each request to the graph's entry queue; a request that finds no job
gathering starts one on the executor. The job:

1. takes every queued request (oldest first, at most `max_runs`) and carries them together
   through the nodes before the first waiting node, one `process_batch` call per node;
2. hands the entry on: the next job may start, for the requests queued meanwhile (or for the
   next request), once fewer batches are inside the waiting node than it can work on at once
   (its node state's `concurrent_batches()`, `ConcurrentBatches`; for the model, its infer
   requests). Until then requests queue at the entry, and the job that starts when a batch
   leaves the model takes all of them: under load a model with one infer request runs one
   batch of everything that queued during the last one;
3. answers at once the requests that failed so far or skip the waiting node (a tokenize call;
   documents all found in the embedding cache), then carries the others on through the
   waiting node and the rest of the graph. Each request's `finish` (e.g. encoding its
   response body) runs in that request's own contextvars, and the futures of a group of
   answers are settled with one `call_soon_threadsafe` per event loop.

So a batch of N requests costs one thread wake-up and one loop wake-up, not several of each
per request, and no graph thread sleeps per request (benchmarks/README.md measured 30-40 µs of
CPU per wake-up on a 2-core VM, about ten per request with a thread per run). A lone request
still goes at once: its job starts as it arrives and carries a batch of one.

Graphs with any per-run node keep the thread-per-run path (`ovserve.graph.runner`); so do
`Graph.run_sync` callers. Runs in a job see their request only through `ctx.scope`, as batch
calculators must (`ovserve.graph.calculator`, step 6); `request_scope.current()` is None there.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ovserve.errors import Unavailable
from ovserve.graph import request_scope
from ovserve.graph.batch_runs import WaitingRun

log = logging.getLogger(__name__)


@runtime_checkable
class ConcurrentBatches(Protocol):
    """A waiting node's state that knows how many batches its calls can work on at once."""

    def concurrent_batches(self) -> int:
        """E.g. the model's infer requests; at least 1."""
        ...


CarrySteps = Callable[[list[WaitingRun], int, int], None]
"""`carry(runs, start, stop)`: runs plan steps `start:stop` for the runs not failed yet."""


@dataclass(eq=False, slots=True)
class _Entry:
    """One queued request: its run, what to do with its outputs, and where to answer."""

    run: WaitingRun
    finish: Callable[[dict[str, object]], object]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    context: contextvars.Context
    submitted: float


class EntryQueue:
    """The requests waiting at one graph's entry; thread-safe. See the module docstring.

    Args:
        submit: starts a job on the graph's executor (`NodeExecutor.submit`); raises
            `Unavailable` when the executor is shut down.
        carry: runs plan steps for a batch (`CarrySteps`).
        split: the step of the first waiting node; the entry is handed on before it.
        steps: the number of steps in the plan.
        skips: whether a run skips the plan step (none of the node's inputs is present).
        outputs: a finished run's output packets (raises `OvserveError` when it has none).
        done: called with the number of requests answered (after their answers are posted).
        max_runs: most requests per job.
        inside_limit: most batches inside the waiting node before the next job may start
            (None: no limit; the next job starts as soon as this one reaches the node).
    """

    def __init__(
        self,
        *,
        submit: Callable[[Callable[[], None]], None],
        carry: CarrySteps,
        split: int,
        steps: int,
        skips: Callable[[WaitingRun, int], bool],
        outputs: Callable[[WaitingRun], dict[str, object]],
        done: Callable[[int], None],
        max_runs: int,
        inside_limit: int | None = None,
    ) -> None:
        if max_runs < 1:
            raise ValueError("an entry takes at least one request at a time")
        if inside_limit is not None and inside_limit < 1:
            raise ValueError("the waiting node must admit at least one batch")
        self._submit = submit
        self._carry = carry
        self._split = split
        self._steps = steps
        self._skips = skips
        self._outputs = outputs
        self._done = done
        self.max_runs = max_runs
        self.inside_limit = inside_limit
        self._lock = threading.Lock()
        self._queue: list[_Entry] = []
        self._gathering = False
        """A job has been started that has not handed the entry on yet."""
        self._inside = 0
        """Jobs whose batch is in the waiting node."""
        self.jobs = 0
        """Jobs started so far (for tests and diagnostics)."""

    @property
    def waiting(self) -> int:
        """Requests queued now, not yet taken by a job."""
        with self._lock:
            return len(self._queue)

    async def submit(self, packets: dict[str, object], finish: Callable[[dict[str, object]], Any]) -> Any:
        """Queue a run with input `packets`; return `finish(outputs)` (run on a graph thread).

        Must be called on a running event loop. Cancelling the await does not stop the run;
        its answer is then dropped. Raises what the run or `finish` raised.
        """
        loop = asyncio.get_running_loop()
        entry = _Entry(
            run=WaitingRun(packets, request_scope.current(), 0),
            finish=finish,
            future=loop.create_future(),
            loop=loop,
            context=contextvars.copy_context(),
            submitted=time.perf_counter(),
        )
        with self._lock:
            self._queue.append(entry)
            start = self._may_start()
        if start:
            self._start_job()
        return await entry.future

    def _start_job(self) -> None:
        """Start a job for the queued requests (the caller set `_gathering`)."""
        with self._lock:
            self.jobs += 1
        try:
            self._submit(self._job)
        except Unavailable as exc:
            with self._lock:
                refused, self._queue = self._queue, []
                self._gathering = False
            self._answer([(entry, False, exc) for entry in refused])

    def _may_start(self) -> bool:
        """Whether a job should start now for the queued requests; if so, it counts as gathering
        (lock held). Not while one gathers, nor while `inside_limit` batches are in the waiting
        node: requests then queue on, and the job that starts when one leaves takes them all."""
        if self._gathering or not self._queue:
            return False
        if self.inside_limit is not None and self._inside >= self.inside_limit:
            return False
        self._gathering = True
        return True

    def _hand_off(self) -> None:
        """This job's batch reaches the waiting node: the next job may gather."""
        with self._lock:
            self._gathering = False
            self._inside += 1
            start = self._may_start()
        if start:
            self._start_job()

    def _leave_waiting_node(self) -> None:
        """This job's batch is out of the waiting node: a job may gather if none does."""
        with self._lock:
            self._inside -= 1
            start = self._may_start()
        if start:
            self._start_job()

    def _job(self) -> None:
        with self._lock:
            batch = self._queue[: self.max_runs]
            del self._queue[: self.max_runs]
        taken = time.perf_counter()
        for entry in batch:
            scope = entry.run.scope
            if scope is not None:
                scope.queue_s += taken - entry.submitted
                scope.graph_runs += 1
        stage = 0
        try:
            self._carry([entry.run for entry in batch], 0, self._split)
            stage = 1
            self._hand_off()
            # Requests that failed or skip the waiting node (e.g. every vector cached, or a
            # tokenize call) are answered first, without waiting for the others' inference.
            early = [e for e in batch if e.run.error is not None or self._skips(e.run, self._split)]
            if early:
                self._carry([e.run for e in early], self._split + 1, self._steps)
                self._answer([self._settle(e) for e in early])
                answered = set(map(id, early))
                batch = [e for e in batch if id(e) not in answered]
            runs = [entry.run for entry in batch]
            self._carry(runs, self._split, self._split + 1)
            stage = 2
            self._leave_waiting_node()
            self._carry(runs, self._split + 1, self._steps)
            answers = [self._settle(entry) for entry in batch]
        except BaseException as exc:  # a bug in the engine: answer every request anyway
            log.exception("graph entry job failed")
            if stage == 0:
                self._hand_off()
            if stage <= 1:
                self._leave_waiting_node()
            answers = [(entry, False, exc) for entry in batch]
        self._answer(answers)

    def _settle(self, entry: _Entry) -> tuple[_Entry, bool, object]:
        """(entry, ok, result or exception) of a carried run, `finish` applied."""
        run = entry.run
        if run.error is not None:
            return entry, False, run.error
        try:
            outputs = self._outputs(run)
            return entry, True, entry.context.run(entry.finish, outputs)
        except Exception as exc:  # the awaiting caller gets it, as from `NodeExecutor.run`
            return entry, False, exc

    def _answer(self, answers: list[tuple[_Entry, bool, object]]) -> None:
        """Post the answers to their event loops, one call per loop; then count them done."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Entry, bool, object]]] = {}
        for answer in answers:
            by_loop.setdefault(answer[0].loop, []).append(answer)
        for loop, posted in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_set_futures, posted)
        if answers:
            self._done(len(answers))


def _set_futures(answers: list[tuple[_Entry, bool, object]]) -> None:
    """On the event loop: resolve each request's future (skipping those cancelled meanwhile)."""
    for entry, ok, value in answers:
        if entry.future.done():
            continue
        if ok:
            entry.future.set_result(value)
        else:
            assert isinstance(value, BaseException)
            entry.future.set_exception(value)
