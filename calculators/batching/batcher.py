"""`DynamicBatcher`: merges concurrent requests for one compiled model into few inferences.

Design (leader/follower, no thread of its own, no timer):

* A graph run calls `run(batch)` on its worker thread and blocks there. Its rows join the
  pending list. While the run's rows are not all done, the thread either waits, or, when an
  infer request ("slot") is idle and rows are pending, takes the slot and runs the next batch
  itself: whatever is pending then, picked by `rows.select` (oldest row first, then the rows
  closest in length, within the row and padded-token budgets). The batch may hold other
  runs' rows and not its own; it then keeps helping until its own rows are done.
* So a request that finds the model idle runs at once, alone, on its own thread (no hop, no
  batch window), and requests that arrive while every slot is busy queue up and go together
  in the next batch. There are as many slots as the compiled model's
  OPTIMAL_NUMBER_OF_INFER_REQUESTS (1 for LATENCY, one per stream for THROUGHPUT), which is
  the concurrency the device can use.
* The leader's thread releases the GIL while the model runs (see `FeatureExtractor.infer`),
  so tokenization and pooling of other requests proceed meanwhile.
* A merged inference that raises is retried per request, so only the request whose input
  breaks the model fails; the others get their results. A single request's failure is
  raised to it unchanged, as without batching.
* Each waiting run sleeps on its own condition (all share the batcher's lock), and a finished
  batch wakes only the runs it finished plus, when rows are pending, one run per free slot to
  lead the next batch. With 64 waiting runs, waking all of them on every batch (notify_all)
  made each one take the lock and the GIL just to go back to sleep.

Graph worker threads are what wait here, so batching can merge only as many requests as the
graph executor lets in at once: see `ovserve.graph.executor.default_workers`.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

from calculators.batching import rows as batch_rows
from calculators.batching.rows import Job, Row
from ovserve.graph import BatchSettings, request_scope
from ovserve.graph.formats.arrays import Float32Array
from ovserve.graph.formats.tokens import TokenBatch

S = TypeVar("S")

InferFn = Callable[[S, TokenBatch], Float32Array]
"""Runs one batch on a slot: `[B, L, ...]` per token, or `[B, ...]` per row (the batcher's
`per_row`). The result may alias the slot's memory until the slot is reused."""


class DynamicBatcher(Generic[S]):
    """Merges the rows of concurrent `run` calls; thread-safe.

    Args:
        infer: runs a batch on a slot (see `InferFn`); may raise for a bad batch.
        slots: the infer requests (or test stand-ins); each runs one batch at a time.
        settings: budgets and padding (`enabled` is the caller's business).
        limit: the model's positional limit; `pad_to_multiple_of` never pads beyond it
            (0: unknown, then no padding beyond the longest row).
        per_row: `infer` returns one result per row (`[B, D]`: pooled vectors, logits), not
            per token (`[B, L, D]`); each request then gets `[N, D]` back.
    """

    def __init__(
        self,
        infer: InferFn[S],
        slots: Sequence[S],
        settings: BatchSettings,
        *,
        limit: int = 0,
        per_row: bool = False,
    ) -> None:
        if not slots:
            raise ValueError("a batcher needs at least one slot")
        self.settings = settings
        self._infer = infer
        self._limit = limit
        self._per_token = not per_row
        self._free = list(slots)
        self._slot_count = len(slots)
        self._pending: list[Row] = []
        self._lock = threading.Lock()
        self._waiting: dict[Job, threading.Condition] = {}
        """The condition each sleeping `run` waits on, by its job (all use `_lock`)."""
        self._holders: list[threading.Condition] = []
        """Conditions of `hold` calls waiting for slots."""
        self.history: collections.deque[int] = collections.deque(maxlen=1024)
        """Rows of each batch run, newest last (for tests and diagnostics)."""
        self._size_counts: collections.Counter[int] = collections.Counter()

    @property
    def slots(self) -> int:
        """The infer requests (or stand-ins) batches run on; each runs one batch at a time."""
        return self._slot_count

    @property
    def pending_rows(self) -> int:
        """Rows waiting for a slot now."""
        with self._lock:
            return len(self._pending)

    def batch_size_counts(self) -> dict[int, int]:
        """Batches run so far, by rows per batch, since this batcher was made (for metrics)."""
        with self._lock:
            return dict(self._size_counts)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep every slot busy for the block (waits until each is free), then release them.

        Requests made meanwhile queue up and go in merged batches afterwards: a deterministic
        way for tests and tools to make the batcher merge, with no reliance on timing.
        """
        held: list[S] = []
        freed = threading.Condition(self._lock)
        with self._lock:
            self._holders.append(freed)
            try:
                while len(held) < self._slot_count:
                    freed.wait_for(lambda: bool(self._free))
                    held.append(self._free.pop())
            finally:
                self._holders.remove(freed)
        try:
            yield
        finally:
            with self._lock:
                self._free.extend(held)
                self._wake_leaders()

    def run(self, batch: TokenBatch) -> Float32Array:
        """The results of `batch`: `[N, L, D]` hidden states (N, L as given; zeros on its
        padding), or `[N, D]` when the batcher is `per_row`.

        Blocks until every row ran. Raises what the model raised for this request's rows.
        Within a client request, reports its inference time and the rest of its wait as
        queue time (`ovserve.graph.request_scope`).
        """
        return self.run_many([batch], [request_scope.current()])[0]

    def run_many(
        self, batches: Sequence[TokenBatch], scopes: Sequence[request_scope.RequestScope | None]
    ) -> list[Float32Array]:
        """`run` for several requests at once, on this thread: each batch's results.

        Their rows join the pending list together (so they can share inferences with each
        other and with other callers' rows), and this thread sleeps once for all of them.
        Each request's times go to its own scope in `scopes` (one per batch, None for none).

        Raises:
            The first error the model raised for some batch's rows, once every batch is done.
        """
        started = time.perf_counter()
        jobs = [Job.of(batch) for batch in batches]
        wake = threading.Condition(self._lock)
        with self._lock:
            for job in jobs:
                self._pending.extend(job.rows())
        while True:
            with self._lock:
                while not all(job.done for job in jobs) and not (self._free and self._pending):
                    # Listed only while asleep, so a wake-up never goes to a thread that is
                    # busy leading a batch (its slot's rows would wait for it).
                    for job in jobs:
                        self._waiting[job] = wake
                    try:
                        wake.wait()
                    finally:
                        for job in jobs:
                            del self._waiting[job]
                if all(job.done for job in jobs):
                    break
                slot = self._free.pop()
                chosen = self._take()
            try:
                self._run_batch(slot, chosen)
            finally:
                with self._lock:
                    self._free.append(slot)
                    self._wake_leaders()
        waited = time.perf_counter() - started
        for job, scope in zip(jobs, scopes, strict=True):
            if scope is not None:
                scope.inference_s += job.infer_s
                scope.queue_s += max(0.0, waited - job.infer_s)
        outputs = []
        for job in jobs:
            if job.error is not None:
                raise job.error
            assert job.out is not None
            outputs.append(job.out)
        return outputs

    def _wake_leaders(self) -> None:
        """Wake one waiter per free slot to run the pending rows (lock held).

        `hold` calls come first; then the owners of the oldest pending rows, one each (a
        run woken to lead may find its own rows already taken, and leads anyway).
        """
        budget = len(self._free)
        for freed in self._holders[:budget]:
            freed.notify()
        budget -= min(budget, len(self._holders))
        woken: set[int] = set()
        for row in self._pending:
            if budget == 0:
                return
            if row.job.error is not None:
                continue
            wake = self._waiting.get(row.job)
            # By condition, not job: one `run_many` caller sleeps for several jobs.
            if wake is not None and id(wake) not in woken:
                wake.notify()
                woken.add(id(wake))
                budget -= 1

    def _take(self) -> list[Row]:
        """Pop the next batch's rows from the pending list (lock held)."""
        # Rows of a request that already failed need not run.
        self._pending = [r for r in self._pending if r.job.error is None]
        if not self._pending:
            return []
        chosen = batch_rows.select(self._pending, self.settings, self._limit)
        taken = {id(r) for r in chosen}
        self._pending = [r for r in self._pending if id(r) not in taken]
        return chosen

    def _run_batch(self, slot: S, chosen: list[Row]) -> None:
        """Run `chosen` on `slot` and deliver; every chosen job ends done or further along."""
        if not chosen:
            return
        try:
            self._run_rows(slot, chosen)
        except Exception as exc:
            jobs = batch_rows.jobs_of(chosen)
            if len(jobs) == 1:
                self._fail(jobs[0], exc)
                return
            # Retry each request alone so that only the one that breaks the model fails.
            for job in jobs:
                try:
                    self._run_rows(slot, [r for r in chosen if r.job is job])
                except Exception as single:
                    self._fail(job, single)
        except BaseException as exc:
            for job in batch_rows.jobs_of(chosen):  # never leave a waiting request hanging
                self._fail(job, exc)
            raise

    def _run_rows(self, slot: S, chosen: list[Row]) -> None:
        if len(chosen) == len(chosen[0].job.lengths):
            # Possibly one whole request: in its own row order, `assemble` can pass it through.
            chosen = sorted(chosen, key=lambda r: r.index)
        batch = batch_rows.assemble(chosen, self.settings, self._limit)
        started = time.perf_counter()
        results = self._infer(slot, batch)
        took = time.perf_counter() - started
        per_token = self._per_token
        trailing = results.shape[2:] if per_token else results.shape[1:]
        self.history.append(len(chosen))
        with self._lock:
            self._size_counts[len(chosen)] += 1
            for job in batch_rows.jobs_of(chosen):
                job.infer_s += took
            for row in chosen:
                if row.job.out is None and row.job.error is None:
                    row.job.allocate(trailing, per_token=per_token)
        # Each row belongs to this batch only, so the copies need no lock.
        for b, row in enumerate(chosen):
            row.job.copy_row(row.index, results[b], per_token=per_token)
        with self._lock:
            for row in chosen:
                row.job.remaining -= 1
            for job in batch_rows.jobs_of(chosen):
                if job.done:
                    self._notify(job)

    def _fail(self, job: Job, exc: BaseException) -> None:
        with self._lock:
            if job.error is None:
                job.error = exc
            self._notify(job)

    def _notify(self, job: Job) -> None:
        """Wake `job`'s run if it sleeps (lock held; a run that is awake checks `done` itself)."""
        wake = self._waiting.get(job)
        if wake is not None:
            wake.notify()
