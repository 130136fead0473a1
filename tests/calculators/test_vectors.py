"""Pooling, normalisation and token-batch rules on small arrays, against explicit loops."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from calculators.vectors import PoolingMode, l2_normalize, l2_normalize_many, pool, pool_many
from ovserve.errors import InvalidArgument
from ovserve.graph.formats.tokens import (
    TokenBatch,
    check_length,
    first_positions,
    last_positions,
    pad_token_ids,
    position_ids,
    right_padded,
    row_lengths,
    row_lengths_list,
)

RNG = np.random.default_rng(7)
HIDDEN = RNG.standard_normal((3, 5, 4)).astype(np.float32)
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=np.int64)


def reference_pool(
    hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64], mode: str
) -> list[list[float]]:
    rows = []
    for h, m in zip(hidden.tolist(), mask.tolist(), strict=True):
        n = sum(m)
        if mode == "CLS":
            rows.append(h[0])
        elif mode == "LAST":
            rows.append(h[n - 1])
        else:
            rows.append(
                [sum(h[t][d] * m[t] for t in range(len(m))) / max(n, 1e-12) for d in range(len(h[0]))]
            )
    return rows


@pytest.mark.parametrize("mode", ["CLS", "MEAN", "LAST"])
def test_pool_matches_loops(mode: PoolingMode) -> None:
    got = pool(HIDDEN, MASK, mode)
    assert got.dtype == np.float32
    assert got.shape == (3, 4)
    np.testing.assert_allclose(got, reference_pool(HIDDEN, MASK, mode), rtol=1e-6, atol=1e-6)


def test_padding_does_not_leak_into_mean_or_last() -> None:
    noisy = HIDDEN.copy()
    noisy[MASK == 0] = 1e6
    for mode in ("MEAN", "LAST"):
        np.testing.assert_allclose(pool(noisy, MASK, mode), pool(HIDDEN, MASK, mode), rtol=1e-6)


def test_all_zero_mask_gives_zero_mean_and_first_token_last() -> None:
    mask = np.zeros((1, 5), dtype=np.int64)
    assert not pool(HIDDEN[:1], mask, "MEAN").any()
    np.testing.assert_array_equal(pool(HIDDEN[:1], mask, "LAST"), HIDDEN[:1, 0])


@pytest.mark.parametrize("mode", ["CLS", "MEAN", "LAST"])
def test_pool_many_gives_each_pair_what_pool_gives_it_alone(mode: PoolingMode) -> None:
    # Runs of mixed shapes (widths 5 and 9, hidden sizes 384 and 8, 1-3 rows) in mixed order:
    # the runs of a shape are pooled stacked, and each must still get its own vectors, bit for bit.
    rng = np.random.default_rng(11)
    shapes = [(1, 5, 384), (3, 9, 384), (2, 5, 384), (1, 9, 384), (1, 5, 8), (2, 5, 384)]
    hiddens = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    masks = [(rng.random(shape[:2]) < 0.7).astype(np.int64) for shape in shapes]
    for mask in masks:
        mask[:, 0] = 1
    got = pool_many(hiddens, masks, mode)
    assert len(got) == len(shapes)
    for hidden, mask, vectors in zip(hiddens, masks, got, strict=True):
        alone = pool(hidden.copy(), mask.copy(), mode)
        assert vectors.dtype == np.float32
        np.testing.assert_array_equal(vectors, alone)
        (single,) = pool_many([hidden], [mask], mode)  # a lone request skips the grouping
        np.testing.assert_array_equal(single, alone)


def test_l2_normalize_many_gives_each_matrix_what_l2_normalize_gives_it_alone() -> None:
    rng = np.random.default_rng(12)
    shapes = [(1, 384), (4, 384), (1, 16), (2, 384), (0, 384)]
    matrices = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    got = l2_normalize_many(matrices)
    assert [g.shape for g in got] == shapes
    for matrix, normalized in zip(matrices, got, strict=True):
        np.testing.assert_array_equal(normalized, l2_normalize(matrix.copy()))


def test_l2_normalize() -> None:
    vectors = np.array([[3.0, 4.0], [0.0, 0.0], [1e-20, 0.0]], dtype=np.float32)
    got = l2_normalize(vectors)
    np.testing.assert_allclose(got[0], [0.6, 0.8], rtol=1e-6)
    assert not got[1].any()  # a zero vector stays zero (norm clamped to 1e-12)
    assert got[2, 0] == pytest.approx(1e-8)  # 1e-20 / 1e-12: below eps the norm is clamped


def test_pad_token_ids() -> None:
    batch = pad_token_ids([[5, 6, 7], [8]], pad_token_id=9)
    np.testing.assert_array_equal(batch.input_ids, [[5, 6, 7], [8, 9, 9]])
    np.testing.assert_array_equal(batch.attention_mask, [[1, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(batch.token_type_ids, np.ones((2, 3)))  # the OVMS quirk
    assert batch.prompt_tokens == 4
    assert batch.length == 3
    assert batch.input_ids.dtype == np.int64


@pytest.mark.parametrize(
    ("rows", "vocab", "message"),
    [
        ([[1, -1]], None, "token id -1 is out of the vocabulary range"),
        ([[1, 30522]], 30522, r"token id 30522 is out of the vocabulary range \[0, 30522\)"),
        ([[]], None, "inner arrays in input should not be empty"),
    ],
)
def test_pad_token_ids_rejects(rows: list[list[int]], vocab: int | None, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        pad_token_ids(rows, pad_token_id=0, vocab_size=vocab)


def test_check_length_message() -> None:
    check_length(256, 256)
    with pytest.raises(InvalidArgument, match=r"^Input length 257 longer than allowed 256$"):
        check_length(257, 256)


LEFT = np.array([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 1]], dtype=np.int64)
"""MASK's rows padded on the left, as the tokenizer of a decoder model (Qwen3) pads them."""


def left_of(hidden: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """HIDDEN's rows moved to where LEFT says their real tokens are."""
    out = np.zeros_like(hidden)
    for i, n in enumerate(MASK.sum(axis=1)):
        out[i, hidden.shape[1] - n :] = hidden[i, :n]
    return out


@pytest.mark.parametrize("mode", ["CLS", "LAST"])
def test_pooling_reads_the_real_tokens_whatever_the_padding_side(mode: PoolingMode) -> None:
    np.testing.assert_array_equal(pool(left_of(HIDDEN), LEFT, mode), pool(HIDDEN, MASK, mode))


def test_mean_pooling_sums_the_same_tokens_whatever_the_padding_side() -> None:
    # The same summands at other positions: the BLAS kernel behind `pool`'s matmul may add
    # them in another order (AVX2 builds of it do: 1 ulp), so equal up to a few ulp. A pad
    # position leaking in would move a mean by the size of a hidden value, ~1.
    np.testing.assert_array_max_ulp(pool(left_of(HIDDEN), LEFT, "MEAN"), pool(HIDDEN, MASK, "MEAN"), maxulp=4)


def test_row_extents_follow_the_mask_on_either_side() -> None:
    assert row_lengths(MASK).tolist() == [5, 3, 1]
    assert row_lengths(LEFT).tolist() == [5, 5, 5]
    assert first_positions(LEFT).tolist() == [0, 2, 4]
    assert last_positions(MASK).tolist() == [4, 2, 0]
    assert last_positions(LEFT).tolist() == [4, 4, 4]
    empty = np.zeros((1, 3), dtype=np.int64)
    assert (row_lengths(empty).tolist(), first_positions(empty).tolist(), last_positions(empty).tolist()) == (
        [1],
        [0],
        [0],
    )


@pytest.mark.parametrize("shape", [(1, 9), (3, 5), (0, 4), (32, 16), (8, 300)])
def test_row_lengths_list_is_row_lengths(shape: tuple[int, int]) -> None:
    # Small masks take the Python scan, large ones numpy (8 x 300 is past the switch).
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    for _ in range(20):
        mask = (rng.random(shape) < rng.random()).astype(np.int64)
        if shape[0] > 1:
            mask[0] = 0  # a row with no token
        assert row_lengths_list(mask) == row_lengths(mask).tolist()
    assert row_lengths_list(LEFT) == [5, 5, 5]
    assert row_lengths_list(MASK) == [5, 3, 1]


def test_position_ids_number_the_real_tokens_from_zero() -> None:
    assert position_ids(MASK).tolist() == [[0, 1, 2, 3, 4], [0, 1, 2, 2, 2], [0, 0, 0, 0, 0]]
    assert position_ids(LEFT).tolist() == [[0, 1, 2, 3, 4], [0, 0, 0, 1, 2], [0, 0, 0, 0, 0]]


def test_right_padded_moves_real_tokens_to_the_front_in_order() -> None:
    ids = np.array([[5, 6, 7, 8, 9], [0, 0, 6, 7, 8], [0, 0, 0, 0, 9]], dtype=np.int64)
    batch = TokenBatch(input_ids=ids, attention_mask=LEFT, token_type_ids=ids * 10)
    turned = right_padded(batch)
    assert turned.input_ids.tolist() == [[5, 6, 7, 8, 9], [6, 7, 8, 0, 0], [9, 0, 0, 0, 0]]
    assert turned.attention_mask.tolist() == MASK.tolist()
    assert turned.token_type_ids.tolist() == (turned.input_ids * 10).tolist()
    assert turned.rows()[1].tolist() == batch.rows()[1].tolist() == [6, 7, 8]
    assert right_padded(turned) is turned
