"""Pooling and L2 normalisation in numpy, as OVMS's embeddings calculator pools.

Inputs are the model's `[N, L, D]` hidden states and the `[N, L]` attention mask, which says
where each row's real tokens are (`ovserve.graph.formats.tokens`), on whichever side the padding is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from ovserve.graph.formats.arrays import Float32Array
from ovserve.graph.formats.tokens import first_positions, last_positions

PoolingMode = Literal["CLS", "MEAN", "LAST"]

EPS = 1e-12
"""Clamp of the MEAN divisor and of the L2 norm (OVMS; sentence-transformers uses 1e-9 / 1e-12)."""


def pool(hidden: Float32Array, mask: npt.NDArray[np.int64], mode: PoolingMode) -> Float32Array:
    """One `[N, D]` float32 vector per row.

    CLS: the first real token (token 0 when right-padded). MEAN: mask-weighted mean, divisor
    clamped to >= EPS. LAST: the last real token (a decoder's EOS). Both take token 0 for an
    all-zero mask.
    """
    # Few numpy calls on purpose: after a model call a lone request's pooling runs with cold
    # caches, where each call costs several µs.
    hidden = np.asarray(hidden, dtype=np.float32)
    if mode == "CLS":
        cls_rows: Float32Array = np.ascontiguousarray(
            hidden[np.arange(len(hidden)), first_positions(mask), :]
        )
        return cls_rows
    if mode == "MEAN":
        weights = mask.astype(np.float32)
        # A batched [1, L] x [L, D] product: same sums as einsum, less overhead per call.
        summed: Float32Array = np.matmul(weights[:, None, :], hidden)[:, 0, :]
        counts = np.maximum(weights.sum(axis=1, keepdims=True), np.float32(EPS))
        mean: Float32Array = (summed / counts).astype(np.float32, copy=False)
        return mean
    last_rows: Float32Array = np.ascontiguousarray(hidden[np.arange(len(hidden)), last_positions(mask), :])
    return last_rows


def l2_normalize(vectors: Float32Array) -> Float32Array:
    """Each row divided by max(||row||, EPS); zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    # What np.linalg.norm(vectors, axis=1) computes for real input, bit for bit, without its
    # Python-level checks (a few µs per call, more with cold caches after a model call).
    norms: Float32Array = np.sqrt(np.add.reduce(vectors * vectors, axis=1, keepdims=True))
    return (vectors / np.maximum(norms, np.float32(EPS))).astype(np.float32, copy=False)


@dataclass(frozen=True)
class Pooler:
    """Rows' hidden states to their vectors: `pool` by `mode`, then `l2_normalize` when
    `normalize`; what PoolingCalculator followed by NormalizeCalculator compute.

    The result never aliases `hidden`, so it may be read from an infer request's output
    memory, which the next inference overwrites. Row by row: a row's vector does not depend
    on the rows beside it or on padding past its mask.
    """

    mode: PoolingMode
    normalize: bool = True

    def __call__(self, hidden: Float32Array, mask: npt.NDArray[np.int64]) -> Float32Array:
        pooled = pool(hidden, mask, self.mode)  # CLS / LAST gather a copy; MEAN computes anew
        return l2_normalize(pooled) if self.normalize else pooled


def pool_many(
    hiddens: Sequence[Float32Array], masks: Sequence[npt.NDArray[np.int64]], mode: PoolingMode
) -> list[Float32Array]:
    """`pool` of each `(hidden, mask)` pair, bit for bit what `pool` gives that pair alone.

    Pairs of one shape are pooled in one call on their rows stacked (each result a view of
    it): every operation in `pool` works row by row, so a row's vector never depends on the
    rows stacked with it. One call per shape rather than per pair is the point: `pool` on a
    request of one text is ~10 µs of numpy call overhead, and a merged batch carries ~32.
    """
    return _by_shape(lambda stacked: pool(stacked[0], stacked[1], mode), hiddens, masks)


def l2_normalize_many(vectors: Sequence[Float32Array]) -> list[Float32Array]:
    """`l2_normalize` of each matrix, bit for bit (row by row, as `pool_many` explains)."""
    return _by_shape(lambda stacked: l2_normalize(stacked[0]), vectors)


def _by_shape(
    apply: Callable[[list[npt.NDArray[Any]]], Float32Array], *columns: Sequence[npt.NDArray[Any]]
) -> list[Float32Array]:
    """`apply` once per group of items whose arrays (one per column) share dtype and all but
    the first dimension, on those arrays stacked along it; each item gets its rows back."""
    if len(columns[0]) == 1:  # a lone request: nothing to group
        return [apply([column[0] for column in columns])]
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, arrays in enumerate(zip(*columns, strict=True)):
        groups.setdefault(tuple((a.dtype, a.shape[1:]) for a in arrays), []).append(i)
    results: list[Float32Array | None] = [None] * len(columns[0])
    for members in groups.values():
        if len(members) == 1:
            results[members[0]] = apply([column[members[0]] for column in columns])
            continue
        out = apply([np.concatenate([column[i] for i in members]) for column in columns])
        start = 0
        for i in members:
            rows = len(columns[0][i])
            results[i] = out[start : start + rows]
            start += rows
    return cast(list[Float32Array], results)  # every index is in exactly one group
