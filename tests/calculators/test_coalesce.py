"""`Coalescer`: concurrent calls merge while a call runs; results, errors and order stay per caller."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from calculators.ov_tokenizer import rows_of
from ovserve.graph.coalesce import Coalescer
from ovserve.graph.formats.tokens import TokenBatch


class Doubler:
    """`run` doubles every item; the first call blocks until released, so others queue."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls: list[list[int]] = []

    def run(self, items: list[int]) -> list[int]:
        self.calls.append(list(items))
        if len(self.calls) == 1:
            self.started.set()
            assert self.release.wait(10)
        if any(item < 0 for item in items):
            raise ValueError(f"negative item in {items}")
        return [2 * item for item in items]


def split(merged: list[int], start: int, stop: int) -> list[int]:
    return merged[start:stop]


def test_calls_that_arrive_while_one_runs_go_together() -> None:
    doubler = Doubler()
    coalescer = Coalescer(doubler.run, split, slots=1)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(coalescer, [1])
        assert doubler.started.wait(10)
        rest = [pool.submit(coalescer, [10 * i, 10 * i + 1]) for i in range(1, 6)]
        while sum(len(c.items) for c in coalescer._pending) < 10:  # all five queued
            threading.Event().wait(0.01)
        doubler.release.set()
        assert first.result() == [2]
        assert [f.result() for f in rest] == [[20 * i, 20 * i + 2] for i in range(1, 6)]
    assert coalescer.merged_calls == 2
    assert sorted(doubler.calls[1]) == sorted(x for i in range(1, 6) for x in (10 * i, 10 * i + 1))


def test_a_bad_call_fails_alone_and_max_items_bounds_a_merge() -> None:
    doubler = Doubler()
    coalescer = Coalescer(doubler.run, split, slots=1, max_items=4)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(coalescer, [1])
        assert doubler.started.wait(10)
        good = [pool.submit(coalescer, [i, i]) for i in (3, 4, 5)]
        bad = pool.submit(coalescer, [-1])
        while len(coalescer._pending) < 4:
            threading.Event().wait(0.01)
        doubler.release.set()
        assert first.result() == [2]
        assert [f.result() for f in good] == [[6, 6], [8, 8], [10, 10]]
        with pytest.raises(ValueError, match="negative"):
            bad.result()
    assert all(len(call) <= 4 for call in doubler.calls[1:])


def test_an_idle_coalescer_runs_at_once_on_the_callers_thread() -> None:
    seen: list[str] = []

    def run(items: list[int]) -> list[int]:
        seen.append(threading.current_thread().name)
        return items

    coalescer = Coalescer(run, split)
    assert coalescer([7, 8]) == [7, 8]
    assert seen == [threading.current_thread().name]


def test_an_idle_call_that_raises_fails_alone_and_frees_its_slot() -> None:
    doubler = Doubler()
    doubler.release.set()
    coalescer = Coalescer(doubler.run, split, slots=1)
    with pytest.raises(ValueError, match="negative"):
        coalescer([-1])
    assert coalescer([3]) == [6]
    assert coalescer._busy == 0
    assert coalescer.merged_calls == 1  # the call that raised delivered nothing


def test_rows_of_every_row_is_the_batch_unless_its_last_columns_are_padding() -> None:
    ids = np.array([[101, 5, 102], [101, 102, 0]], dtype=np.int64)
    mask = (ids != 0).astype(np.int64)
    tight = TokenBatch(input_ids=ids, attention_mask=mask, token_type_ids=np.zeros_like(ids))
    assert rows_of(tight, 0, 2) is tight
    # A tokenizer that pads to a fixed width: every row still comes back cut to the longest.
    wide = np.pad(ids, ((0, 0), (0, 3)))
    padded = TokenBatch(input_ids=wide, attention_mask=(wide != 0).astype(np.int64), token_type_ids=0 * wide)
    assert rows_of(padded, 0, 2).input_ids.tolist() == ids.tolist()


def test_rows_of_gives_each_callers_rows_cut_to_their_own_width() -> None:
    ids = np.array([[101, 5, 6, 7, 102], [101, 9, 102, 0, 0], [101, 102, 0, 0, 0]], dtype=np.int64)
    mask = (ids != 0).astype(np.int64)
    batch = TokenBatch(input_ids=ids, attention_mask=mask, token_type_ids=np.zeros_like(ids))
    alone = rows_of(batch, 1, 3)
    assert alone.input_ids.tolist() == [[101, 9, 102], [101, 102, 0]]
    assert alone.attention_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert rows_of(batch, 0, 1).length == 5
    assert rows_of(batch, 2, 2).input_ids.shape == (0, 0)


@pytest.mark.parametrize("slots", [1, 2])
def test_many_concurrent_callers_each_get_their_own_results(slots: int) -> None:
    # Each queued caller sleeps on its own condition; a lost wake-up would hang a caller here.
    def run(items: list[int]) -> list[int]:
        if any(item < 0 for item in items):
            raise ValueError("negative item")
        threading.Event().wait(0.0005)  # long enough for callers to pile up
        return [2 * item for item in items]

    coalescer = Coalescer(run, split, slots=slots, max_items=16)
    calls = [[i * 10 + k for k in range(1 + i % 3)] for i in range(200)]
    calls[13] = [-1]
    with ThreadPoolExecutor(64) as pool:
        futures = [pool.submit(coalescer, items) for items in calls]
        for i, future in enumerate(futures):
            if i == 13:
                with pytest.raises(ValueError, match="negative item"):
                    future.result(timeout=60)
            else:
                assert future.result(timeout=60) == [2 * item for item in calls[i]]
    assert coalescer.merged_calls < len(calls)
