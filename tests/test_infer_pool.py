"""`InferRequestPool`: at most `limit` requests exist and are lent at once; they are reused."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ovserve.graph.node_loading import default_core
from ovserve.runtime.infer_pool import InferRequestPool, optimal_requests
from tests.toy_models import write_relu_model


def test_the_pool_lends_at_most_limit_requests_and_reuses_them(tmp_path: Path) -> None:
    compiled = default_core().compile_model(str(write_relu_model(tmp_path)), "CPU")
    pool = InferRequestPool(compiled, limit=2)
    third_got_one = threading.Event()
    seen: list[object] = []
    with pool.request() as first, pool.request() as second:
        seen += [first, second]

        def borrow() -> None:
            with pool.request() as third:
                seen.append(third)
                third_got_one.set()

        waiter = threading.Thread(target=borrow)
        waiter.start()
        assert not third_got_one.wait(0.2)  # both lent: the third caller waits
    assert third_got_one.wait(5)
    waiter.join()
    assert seen[2] is seen[0] or seen[2] is seen[1]  # no third request was made


def test_a_limit_below_one_is_refused_and_the_optimum_is_at_least_one(tmp_path: Path) -> None:
    compiled = default_core().compile_model(str(write_relu_model(tmp_path)), "CPU")
    with pytest.raises(ValueError, match="at least 1"):
        InferRequestPool(compiled, limit=0)
    assert optimal_requests(compiled) >= 1


def test_the_wait_for_a_request_is_reported(tmp_path: Path) -> None:
    compiled = default_core().compile_model(str(write_relu_model(tmp_path)), "CPU")
    pool = InferRequestPool(compiled, limit=1)
    waits: list[float] = []

    def second() -> None:
        with pool.request(waits.append):
            pass

    with pool.request(waits.append):
        waiter = threading.Thread(target=second)
        waiter.start()
        threading.Event().wait(0.2)  # the second caller waits this long for the only request
    waiter.join(5)
    assert len(waits) == 2
    assert waits[0] < 0.1 <= waits[1]
