"""Cross-request dynamic batching for the feature-extraction model (see `batcher`)."""

from __future__ import annotations

from calculators.batching.batcher import DynamicBatcher, InferFn
from calculators.batching.settings import resolve

__all__ = ["DynamicBatcher", "InferFn", "resolve"]
