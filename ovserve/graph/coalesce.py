"""`Coalescer`: concurrent calls of a batchable function become one call (leader/follower).

The engine's one leader/follower queue: the gates of batch-capable nodes
(`ovserve.graph.batch_runs`) and the tokenizer's merged calls (`calculators.ov_tokenizer`) use it.

Tokenizing one short text costs about as much fixed overhead as tokenizing dozens, so when
many single-text requests arrive together, running their tokenizer calls one by one wastes
the CPU that inference needs. A `Coalescer` lets at most `slots` calls of the function run at
once; callers that arrive meanwhile queue, and the next free caller runs every queued call's
items in one merged call, then each caller takes its own slice of the result.

No thread of its own and no timer: an idle coalescer runs a call at once on the caller's
thread, so a lone request pays nothing. A merged call that raises is retried call by call, so
one caller's bad input never fails the others. Each waiting caller sleeps on its own condition:
a merged call wakes the callers it served and one queued caller per free slot, not everyone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
M = TypeVar("M")
R = TypeVar("R")


@dataclass(eq=False)
class _Call(Generic[T, R]):
    items: Sequence[T]
    wake: threading.Condition
    result: R | None = None
    error: BaseException | None = None
    done: bool = False
    sleeping: bool = False


class Coalescer(Generic[T, M, R]):
    """Thread-safe; see the module docstring.

    Args:
        run: the batchable function: every queued item, in order → one merged result.
        split: `split(merged, start, stop)` → the result of items `start:stop` alone.
        slots: merged calls allowed at once.
        max_items: items per merged call (a single larger call still runs, alone).
    """

    def __init__(
        self,
        run: Callable[[list[T]], M],
        split: Callable[[M, int, int], R],
        *,
        slots: int = 1,
        max_items: int = 256,
    ) -> None:
        self._run = run
        self._split = split
        self.slots = slots
        self.max_items = max_items
        self._pending: list[_Call[T, R]] = []
        self._busy = 0
        self._lock = threading.Lock()
        self.merged_calls = 0
        """Calls of `run` so far (for tests and diagnostics)."""

    @property
    def queued(self) -> int:
        """Calls waiting now, not yet taken into a merged call."""
        with self._lock:
            return len(self._pending)

    def __call__(self, items: Sequence[T]) -> R:
        """`split(run(items), 0, len(items))`, possibly computed together with other callers'.

        Raises what `run` raised for these items.
        """
        with self._lock:
            idle = self._busy < self.slots and not self._pending
            if idle:
                self._busy += 1
        if idle:
            return self._run_alone(items)
        call: _Call[T, R] = _Call(items, threading.Condition(self._lock))
        with self._lock:
            self._pending.append(call)
        while True:
            with self._lock:
                while not call.done and not (self._busy < self.slots and self._pending):
                    call.sleeping = True
                    try:
                        call.wake.wait()
                    finally:
                        call.sleeping = False
                if call.done:
                    break
                self._busy += 1
                batch = self._take()
            try:
                self._run_batch(batch)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._wake_next()
        if call.error is not None:
            raise call.error
        return call.result  # type: ignore[return-value]  # set when done without error

    def _run_alone(self, items: Sequence[T]) -> R:
        """A call that found a free slot and nobody queued (its slot taken): run it at once,
        without the queue's bookkeeping. Callers that arrive meanwhile queue and go next."""
        try:
            result = self._split(self._run(list(items)), 0, len(items))
            with self._lock:
                self.merged_calls += 1
            return result
        finally:
            with self._lock:
                self._busy -= 1
                self._wake_next()

    def _wake_next(self) -> None:
        """Wake the oldest sleeping queued callers, one per free slot, to run them (lock held)."""
        free = self.slots - self._busy
        for call in self._pending:
            if free <= 0:
                return
            if call.sleeping:
                call.wake.notify()
                free -= 1

    def _take(self) -> list[_Call[T, R]]:
        """The oldest pending calls that fit in `max_items` (at least one); lock held."""
        taken: list[_Call[T, R]] = []
        count = 0
        while self._pending and (not taken or count + len(self._pending[0].items) <= self.max_items):
            call = self._pending.pop(0)
            taken.append(call)
            count += len(call.items)
        return taken

    def _run_batch(self, batch: list[_Call[T, R]]) -> None:
        try:
            self._deliver(batch)
        except Exception as exc:
            if len(batch) == 1:
                self._fail(batch[0], exc)
                return
            for call in batch:  # alone, so that only the call whose items break `run` fails
                try:
                    self._deliver([call])
                except Exception as single:
                    self._fail(call, single)
        except BaseException as exc:
            for call in batch:  # never leave a waiting caller hanging
                self._fail(call, exc)
            raise

    def _deliver(self, batch: list[_Call[T, R]]) -> None:
        merged = self._run([item for call in batch for item in call.items])
        results = []
        start = 0
        for call in batch:
            stop = start + len(call.items)
            results.append(self._split(merged, start, stop))
            start = stop
        with self._lock:
            self.merged_calls += 1
            for call, result in zip(batch, results, strict=True):
                call.result, call.done = result, True
                call.wake.notify()

    def _fail(self, call: _Call[T, R], exc: BaseException) -> None:
        with self._lock:
            call.error, call.done = exc, True
            call.wake.notify()
