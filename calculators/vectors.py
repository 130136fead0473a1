"""Pooling and L2 normalisation in numpy, as OVMS's embeddings calculator pools.

Inputs are the model's `[N, L, D]` hidden states and the `[N, L]` attention mask, which says
where each row's real tokens are (`ovserve.graph.formats.tokens`), on whichever side the padding is.
"""

from __future__ import annotations

from typing import Literal

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
    hidden = np.asarray(hidden, dtype=np.float32)
    rows = np.arange(hidden.shape[0])
    if mode == "CLS":
        cls_rows: Float32Array = np.ascontiguousarray(hidden[rows, first_positions(mask), :])
        return cls_rows
    weights = mask.astype(np.float32)
    if mode == "MEAN":
        # A batched [1, L] x [L, D] product: same sums as einsum, less overhead per call.
        summed: Float32Array = np.matmul(weights[:, None, :], hidden)[:, 0, :]
        counts = np.maximum(weights.sum(axis=1, keepdims=True), np.float32(EPS))
        mean: Float32Array = (summed / counts).astype(np.float32)
        return mean
    last_rows: Float32Array = np.ascontiguousarray(hidden[rows, last_positions(mask), :])
    return last_rows


def l2_normalize(vectors: Float32Array) -> Float32Array:
    """Each row divided by max(||row||, EPS); zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms: Float32Array = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, np.float32(EPS))).astype(np.float32)
