"""Batching rules and the batcher's protocol, with a fake model (no OpenVINO, no timing).

The fake model's hidden state of a token depends on that token and its row only (id, type,
position, and the row's attended-token sum), so a row gives the same values in any batch, as
a real model does within rounding; pads get a value that would show if they leaked.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from calculators.batching import DynamicBatcher, resolve
from calculators.batching.rows import Job, Row, assemble, close_enough, select
from ovserve._proto.ovserve.calculators.feature_extraction_calculator_pb2 import BatchingOptions
from ovserve.errors import ConfigError
from ovserve.graph import BatchSettings
from ovserve.graph.formats.arrays import Float32Array
from ovserve.graph.formats.tokens import TokenBatch

BAD_ID = 666


def tokens(*lengths: int, start: int = 1, type_id: int = 0) -> TokenBatch:
    """A right-padded request with one row per length (ids count up from `start`)."""
    width = max(lengths)
    ids = np.zeros((len(lengths), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        ids[i, :n] = np.arange(start + 10 * i, start + 10 * i + n)
        mask[i, :n] = 1
    return TokenBatch(input_ids=ids, attention_mask=mask, token_type_ids=np.full_like(ids, type_id) * mask)


class FakeModel:
    """Counts the batches it ran; raises for a batch holding BAD_ID; can block on a gate."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def __call__(self, slot: int, batch: TokenBatch) -> Float32Array:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(timeout=30)
        self.shapes.append(batch.input_ids.shape)
        if (batch.input_ids == BAD_ID).any():
            raise RuntimeError("the model cannot take id 666")
        ids = batch.input_ids.astype(np.float32)
        mask = batch.attention_mask.astype(np.float32)
        row_sum = (ids * mask).sum(axis=1, keepdims=True)
        position = np.broadcast_to(np.arange(ids.shape[1], dtype=np.float32), ids.shape)
        hidden = np.stack(
            [ids, batch.token_type_ids.astype(np.float32), position, row_sum + 0 * ids], axis=-1
        )
        hidden[mask == 0] = -1.0  # visible if padding leaked into a result
        return hidden


def expected(batch: TokenBatch) -> Float32Array:
    """What the fake model gives for `batch` run alone, with zeros on its padding."""
    hidden = FakeModel()(0, batch)
    hidden[batch.attention_mask == 0] = 0.0
    return hidden


def run_all(
    batcher: DynamicBatcher[int], requests: Sequence[TokenBatch], *, held: bool = True
) -> list[Float32Array | Exception]:
    """`batcher.run` of every request on its own thread; with `held`, all queued behind a held
    batcher first. A request still running after 30 s reads `RuntimeError("not run")`."""
    results: list[Float32Array | Exception] = [RuntimeError("not run")] * len(requests)

    def one(i: int) -> None:
        try:
            results[i] = batcher.run(requests[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    rows = sum(r.input_ids.shape[0] for r in requests)
    with batcher.hold() if held else contextlib.nullcontext():
        for t in threads:
            t.start()
        while held and batcher.pending_rows < rows:
            threading.Event().wait(0.001)
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.fixture
def make() -> Callable[..., tuple[DynamicBatcher[int], FakeModel]]:
    def factory(slots: int = 1, max_batch_size: int = 64) -> tuple[DynamicBatcher[int], FakeModel]:
        model = FakeModel()
        settings = BatchSettings(max_batch_size=max_batch_size, pad_to_multiple_of=0)
        return DynamicBatcher(model, list(range(slots)), settings, limit=512), model

    return factory


def rows_of(*lengths: int) -> list[Row]:
    return [row for n in lengths for row in Job.of(tokens(n)).rows()]


def test_job_lengths_come_from_the_mask() -> None:
    assert Job.of(tokens(3, 7, 1)).lengths == (3, 7, 1)


def test_select_starts_with_the_oldest_and_groups_close_lengths() -> None:
    pending = rows_of(100, 8, 300, 10, 9, 110, 120)
    chosen = select(pending, BatchSettings(), 512)
    assert [r.length for r in chosen] == [100, 110, 120]
    assert not close_enough(100, 300)
    short = select(pending[1:], BatchSettings(), 512)
    assert [r.length for r in short] == [8, 9, 10]


def test_select_respects_row_and_padded_token_budgets() -> None:
    pending = rows_of(*([40] * 10))
    assert len(select(pending, BatchSettings(max_batch_size=4), 512)) == 4
    # 5 rows x 40 padded tokens = 200 fits; 6 x 40 does not.
    unpadded = BatchSettings(max_batch_tokens=200, pad_to_multiple_of=0)
    assert len(select(pending, unpadded, 512)) == 5
    # Padded to 48 (the bucket of 40), only 4 rows fit.
    assert len(select(pending, BatchSettings(max_batch_tokens=200, pad_to_multiple_of=32), 512)) == 4
    # A single row over the budget still runs, alone.
    assert len(select(rows_of(300, 300), BatchSettings(max_batch_tokens=100), 512)) == 1


def test_pad_length_buckets_finely_when_short_and_never_passes_the_model_limit() -> None:
    settings = BatchSettings(pad_to_multiple_of=32)
    buckets = {n: settings.pad_length(n, 512) for n in (1, 8, 10, 17, 40, 100, 129, 500, 512)}
    assert buckets == {1: 8, 8: 8, 10: 16, 17: 24, 40: 48, 100: 128, 129: 160, 500: 512, 512: 512}
    assert len({settings.pad_length(n, 512) for n in range(1, 513)}) <= 24
    assert settings.pad_length(600, 512) == 600  # longer rows are the model's to reject
    assert settings.pad_length(10, 0) == 10  # unknown limit: no padding
    assert BatchSettings(pad_to_multiple_of=0).pad_length(10, 512) == 10


def test_default_buckets_waste_little_on_long_rows() -> None:
    """The default step, 16: a 140-token rerank pair runs as 144 tokens (not 160 as at 32),
    with 34 distinct lengths up to 512 (bounded kernels: benchmarks/memory_shapes.py)."""
    settings = BatchSettings()
    assert [settings.pad_length(n, 512) for n in (10, 40, 129, 140, 257)] == [16, 48, 144, 144, 272]
    assert len({settings.pad_length(n, 512) for n in range(1, 513)}) == 34


def test_assemble_pads_with_mask_zero_and_keeps_types_per_row() -> None:
    a, b = Job.of(tokens(2, type_id=1)), Job.of(tokens(4, start=50))
    batch = assemble([*a.rows(), *b.rows()], BatchSettings(pad_to_multiple_of=8), 512)
    assert batch.input_ids.shape == (2, 8)
    assert batch.attention_mask.tolist() == [[1, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0]]
    assert batch.token_type_ids[:, :4].tolist() == [[1, 1, 0, 0], [0, 0, 0, 0]]


def test_a_lone_request_on_an_idle_model_runs_at_once_alone(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]],
) -> None:
    batcher, model = make()
    request = tokens(5, 3)
    np.testing.assert_array_equal(batcher.run(request), expected(request))
    assert list(batcher.history) == [2]  # one batch, of this request's own two rows
    assert model.shapes == [(2, 5)]


def test_requests_queued_while_busy_merge_and_split_back_exactly(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]],
) -> None:
    batcher, model = make()
    requests = [tokens(8, start=1), tokens(9, 7, start=100), tokens(10, start=200, type_id=1)]
    results = run_all(batcher, requests)
    for request, result in zip(requests, results, strict=True):
        assert not isinstance(result, Exception)
        np.testing.assert_array_equal(result, expected(request))
    assert list(batcher.history) == [4]
    assert model.shapes == [(4, 10)]


def per_row(hidden: Float32Array, mask: Float32Array) -> Float32Array:
    """A per-row reduction of the fake model's output, as pooling is: sum over attended tokens."""
    summed: Float32Array = (hidden * mask[..., None]).sum(axis=1)
    return summed


def test_per_row_results_are_split_back_by_row(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]],
) -> None:
    # As pooled vectors come back (`per_row`): `[B, D]` per batch, each request gets `[N, D]`
    # of its own rows, in its own order, though the batch sorted them by length.
    model = FakeModel()
    settings = BatchSettings(max_batch_size=64, pad_to_multiple_of=0)
    batcher = DynamicBatcher(
        lambda slot, batch: per_row(model(slot, batch), batch.attention_mask.astype(np.float32)),
        [0],
        settings,
        limit=512,
        per_row=True,
    )
    requests = [tokens(8, 3, start=1), tokens(9, 2, 7, start=100), tokens(10, start=200, type_id=1)]
    results = run_all(batcher, requests)
    for request, result in zip(requests, results, strict=True):
        assert not isinstance(result, Exception)
        want = per_row(expected(request), request.attention_mask.astype(np.float32))
        assert result.shape == want.shape == (request.input_ids.shape[0], 4)
        np.testing.assert_array_equal(result, want)
    assert list(batcher.history) == [6]
    assert model.shapes == [(6, 10)]


def test_a_bad_request_fails_alone_in_a_merged_batch(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]],
) -> None:
    batcher, model = make()
    bad = tokens(8, start=BAD_ID - 3)
    requests = [tokens(8), bad, tokens(9, start=300), tokens(7, 8, start=400)]
    results = run_all(batcher, requests)
    assert isinstance(results[1], RuntimeError)
    assert "666" in str(results[1])
    for i in (0, 2, 3):
        result = results[i]
        assert not isinstance(result, Exception)
        np.testing.assert_array_equal(result, expected(requests[i]))
    # The merged batch (5 rows, longest 9) failed, then each request ran alone.
    assert model.shapes[0] == (5, 9)
    assert sorted(batcher.history) == [1, 1, 2]


def test_one_caller_can_hand_over_several_requests_and_sleeps_once_for_all(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]],
) -> None:
    """`run_many` (a batch of graph runs at the model node): one inference for all the rows
    that fit, each request's own rows back, and its times reported to its own scope."""
    from ovserve.graph.request_scope import RequestScope

    batcher, model = make()
    requests = [tokens(8, start=1), tokens(9, 7, start=100), tokens(10, start=200, type_id=1)]
    scopes = [RequestScope(), None, RequestScope()]
    results = batcher.run_many(requests, scopes)
    for request, result in zip(requests, results, strict=True):
        np.testing.assert_array_equal(result, expected(request))
    assert model.shapes == [(4, 10)]
    assert all(scope.inference_s > 0 for scope in scopes if scope is not None)


def test_a_bad_request_among_several_handed_over_raises_its_error(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]],
) -> None:
    """The caller learns the model's error; the engine then repeats each run alone."""
    batcher, model = make()
    requests = [tokens(8), tokens(8, start=BAD_ID - 3), tokens(7, start=300)]
    with pytest.raises(RuntimeError, match="666"):
        batcher.run_many(requests, [None] * 3)
    assert model.shapes[0] == (3, 8)  # merged, then each request alone
    assert sorted(batcher.history) == [1, 1]
    np.testing.assert_array_equal(batcher.run(requests[2]), expected(requests[2]))


def test_a_request_larger_than_the_budget_is_split_and_reassembled(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]],
) -> None:
    batcher, model = make(max_batch_size=2)
    request = tokens(4, 6, 5, 3, 7)
    np.testing.assert_array_equal(batcher.run(request), expected(request))
    assert sorted(batcher.history) == [1, 2, 2]
    assert all(rows <= 2 for rows, _ in model.shapes)


def test_lengths_far_apart_go_in_separate_batches(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]],
) -> None:
    batcher, model = make()
    requests = [tokens(8), tokens(200, start=1000), tokens(9, start=50)]
    results = run_all(batcher, requests)
    for request, result in zip(requests, results, strict=True):
        assert not isinstance(result, Exception)
        np.testing.assert_array_equal(result, expected(request))
    assert sorted(model.shapes) == [(1, 200), (2, 9)]


def test_every_slot_runs_a_batch_at_the_same_time(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]],
) -> None:
    batcher, model = make(slots=2)
    model.gate = threading.Event()
    first = threading.Thread(target=batcher.run, args=(tokens(8),))
    first.start()
    assert model.entered.wait(timeout=30)
    # One slot is busy in the gated model; the other still takes a new request at once.
    model.entered.clear()
    second = threading.Thread(target=batcher.run, args=(tokens(9),))
    second.start()
    assert model.entered.wait(timeout=30)
    model.gate.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert list(batcher.history) == [1, 1]


def test_options_override_the_server_defaults_field_by_field() -> None:
    server = BatchSettings(max_batch_size=16, max_batch_tokens=1000)
    settings = resolve(BatchingOptions(max_batch_tokens=2000, pad_to_multiple_of=0), base=server, where="n")
    assert settings == BatchSettings(max_batch_size=16, max_batch_tokens=2000, pad_to_multiple_of=0)
    assert not resolve(BatchingOptions(enabled=False), base=server, where="n").enabled
    with pytest.raises(ConfigError, match="must be >= 1"):
        resolve(BatchingOptions(max_batch_size=0), base=server, where="n")


@pytest.mark.parametrize("slots", [1, 2, 3])
def test_many_concurrent_requests_all_finish_with_their_own_rows(
    make: Callable[..., tuple[DynamicBatcher[int], FakeModel]], slots: int
) -> None:
    # Waiters sleep on their own conditions and are woken one by one, so a lost wake-up
    # would leave a request hanging here: every thread must finish, with exact rows.
    batcher, _ = make(slots=slots, max_batch_size=8)
    rng = np.random.default_rng(slots)
    requests = [
        tokens(*rng.integers(1, 40, size=int(rng.integers(1, 5))).tolist(), start=1000 * (i + 1))
        for i in range(96)
    ]
    requests[7] = tokens(5, start=BAD_ID - 2)
    results = run_all(batcher, requests, held=False)
    assert isinstance(results[7], RuntimeError)
    assert "666" in str(results[7])
    for i, request in enumerate(requests):
        if i != 7:
            result = results[i]
            assert not isinstance(result, Exception)
            np.testing.assert_array_equal(result, expected(request))
    assert batcher.pending_rows == 0
