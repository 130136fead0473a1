"""Pooling and L2 normalisation in numpy, with the semantics of reference §4.2.

Inputs are the model's `[N, L, D]` hidden states and the right-padded `[N, L]` attention mask.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Float32Array = npt.NDArray[np.float32]
PoolingMode = Literal["CLS", "MEAN", "LAST"]

EPS = 1e-12
"""Clamp of the MEAN divisor and of the L2 norm (OVMS; sentence-transformers uses 1e-9 / 1e-12)."""


def pool(hidden: Float32Array, mask: npt.NDArray[np.int64], mode: PoolingMode) -> Float32Array:
    """One `[N, D]` float32 vector per row.

    CLS: token 0. MEAN: mask-weighted mean, divisor clamped to >= EPS. LAST: the token at
    index sum(mask) - 1 (right padding), token 0 for an all-zero mask.
    """
    hidden = np.asarray(hidden, dtype=np.float32)
    if mode == "CLS":
        cls_rows: Float32Array = np.ascontiguousarray(hidden[:, 0, :])
        return cls_rows
    weights = mask.astype(np.float32)
    if mode == "MEAN":
        # A batched [1, L] x [L, D] product: same sums as einsum, less overhead per call.
        summed: Float32Array = np.matmul(weights[:, None, :], hidden)[:, 0, :]
        counts = np.maximum(weights.sum(axis=1, keepdims=True), np.float32(EPS))
        mean: Float32Array = (summed / counts).astype(np.float32)
        return mean
    last = np.maximum(mask.sum(axis=1) - 1, 0)
    last_rows: Float32Array = np.ascontiguousarray(hidden[np.arange(hidden.shape[0]), last, :])
    return last_rows


def l2_normalize(vectors: Float32Array) -> Float32Array:
    """Each row divided by max(||row||, EPS); zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms: Float32Array = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, np.float32(EPS))).astype(np.float32)
