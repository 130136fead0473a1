"""Batching settings: per node from `BatchingOptions`, else the server-wide defaults.

The server sets the defaults once at start, before it loads graphs (`set_defaults`, from its
command line); a graph's `FeatureExtractionCalculatorOptions.batching` overrides them field by
field. Reading happens at graph load only, so changing the defaults later affects graphs
loaded later (a config reload), never a loaded graph.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from ovserve._proto.ovserve.calculators.feature_extraction_calculator_pb2 import BatchingOptions
from ovserve.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class BatchSettings:
    """How one model's requests are merged.

    Attributes:
        enabled: merge requests; False runs each request alone (the OVMS behaviour).
        max_batch_size: most rows in one inference.
        max_batch_tokens: most padded tokens (rows x padded length) in one inference.
        pad_to_multiple_of: round each batch's sequence length up to this (0/1: off).
    """

    enabled: bool = True
    # 64 rows: the W2 load (64 clients x 1 short text) fits one inference. 8192 padded tokens:
    # a 32 x 256 request still runs whole, while the activations of one inference stay near
    # 250 MiB for MiniLM (environment.md §7: b32x512 added ~250 MiB per infer request).
    max_batch_size: int = 64
    max_batch_tokens: int = 8192
    # Measured (benchmarks/memory_shapes.py, 500 requests of 1-512 tokens, 4 clients): without
    # padding the server grew 188 -> 518 MiB and still by ~470 MiB per 1,000 requests at the
    # end, one set of kernels per new shape; padded to 32 it stayed at 276 MiB (+6 MiB per
    # 1,000), at the same throughput. CPU_RUNTIME_CACHE_CAPACITY=0 did worse (582 MiB).
    pad_to_multiple_of: int = 32

    def check(self, *, where: str) -> BatchSettings:
        """Return self if valid.

        Raises:
            ConfigError: a limit is zero.
        """
        if self.max_batch_size < 1 or self.max_batch_tokens < 1:
            raise ConfigError(f"{where}: batching max_batch_size and max_batch_tokens must be >= 1")
        return self

    def pad_length(self, length: int, limit: int) -> int:
        """`length` rounded up to its bucket, not beyond `limit` (0: unknown) nor below `length`.

        The step is `pad_to_multiple_of`, but at most a quarter of the next power of two and
        at least 8: padding costs compute in proportion, so an 8-token text stays at 8 and a
        10-token one goes to 16, while lengths over 128 go to multiples of 32 (with the
        default 32). About 20 distinct lengths up to 512 instead of 512.
        """
        step = self.pad_to_multiple_of
        if step <= 1:
            return length
        step = min(step, max(8, (1 << (length - 1).bit_length()) // 4))
        return max(length, min(-(-length // step) * step, limit))


_lock = threading.Lock()
_defaults = BatchSettings()


def set_defaults(settings: BatchSettings) -> None:
    """Set the server-wide defaults (call once at start, before loading graphs). Thread-safe."""
    global _defaults
    settings.check(where="server batching defaults")
    with _lock:
        _defaults = settings


def defaults() -> BatchSettings:
    """The current server-wide defaults. Thread-safe."""
    with _lock:
        return _defaults


def resolve(options: BatchingOptions, *, where: str) -> BatchSettings:
    """The defaults with every field the node sets replaced.

    Raises:
        ConfigError: a resulting limit is zero.
    """
    base = defaults()
    return replace(
        base,
        enabled=options.enabled if options.HasField("enabled") else base.enabled,
        max_batch_size=options.max_batch_size if options.HasField("max_batch_size") else base.max_batch_size,
        max_batch_tokens=(
            options.max_batch_tokens if options.HasField("max_batch_tokens") else base.max_batch_tokens
        ),
        pad_to_multiple_of=(
            options.pad_to_multiple_of if options.HasField("pad_to_multiple_of") else base.pad_to_multiple_of
        ),
    ).check(where=where)
