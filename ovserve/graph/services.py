"""Graph services: objects the server gives every graph it loads, which calculators ask for by key.

As MediaPipe's graph services (`framework/graph_service.h`): a service is declared once by a
typed key with a default, the server passes values for the keys it configures to `load_graph`,
and a calculator reads one at load (`GraphLoadContext.service(KEY)`), getting the default when the
server passed none (tests, tools). They replace module-level settings, so two graphs loaded with
different settings in one process cannot see each other's.

Services known to the engine:

* `BATCHING` (`BatchSettings`): how a model node merges concurrent requests by default.
* `EMBEDDING_CACHE_MIB` (int): the size of each embeddings graph's vector cache; 0 (the
  default) leaves it out of the graphs the OVMS forms expand into.

Expansion (`Subgraph.expand`) reads services too (`ExpandContext.service`), so a service can
change which nodes a graph form expands into.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar, cast

from ovserve.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class GraphService(Generic[T]):
    """The key of one service: its name (for messages) and the value a graph gets by default."""

    name: str
    default: T


class GraphServices:
    """The service values one load gets, immutable; absent keys read as their default."""

    def __init__(self, values: Mapping[GraphService[object], object] | None = None) -> None:
        self._values: Mapping[GraphService[object], object] = MappingProxyType(dict(values or {}))

    @classmethod
    def of(cls, *pairs: tuple[GraphService[Any], object]) -> GraphServices:
        """Services from `(key, value)` pairs (each value of its key's type)."""
        return cls({cast("GraphService[object]", key): value for key, value in pairs})

    def get(self, key: GraphService[T]) -> T:
        """The value given for `key`, else its default."""
        if key in self._values:
            return cast("T", self._values[cast("GraphService[object]", key)])
        return key.default


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
    # 250 MiB for MiniLM (measured: a 32 x 512 batch added ~250 MiB per infer request).
    max_batch_size: int = 64
    max_batch_tokens: int = 8192
    # Measured (benchmarks/memory_shapes.py, 500 requests of 1-512 tokens, 4 clients): without
    # padding the server grew 188 -> 518 MiB and still by ~470 MiB per 1,000 requests at the
    # end, one set of kernels per new shape; padded to 32 it stayed at 276 MiB (+6 MiB per
    # 1,000), at the same throughput. CPU_RUNTIME_CACHE_CAPACITY=0 did worse (582 MiB).
    # 16, not 32: a 140-token rerank pair ran as 160 tokens at 32, 14% more compute (R1 in
    # benchmarks/README.md: 0.88x raw at 32, 0.90-0.93x at 16, ~100 ms less CPU per request);
    # 1,500 requests of 1-512 tokens peaked at 333 MiB at 16 against 284 MiB at 32, flat both.
    pad_to_multiple_of: int = 16

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
        10-token one goes to 16, while lengths over 32 go to multiples of 16 (with the default
        16). 34 distinct lengths up to 512 instead of 512.
        """
        step = self.pad_to_multiple_of
        if step <= 1:
            return length
        step = min(step, max(8, (1 << (length - 1).bit_length()) // 4))
        return max(length, min(-(-length // step) * step, limit))


BATCHING: GraphService[BatchSettings] = GraphService("batching", BatchSettings())
"""The server's batching defaults (its `--batching`, `--max_batch_size`, ... flags)."""

EMBEDDING_CACHE_MIB: GraphService[int] = GraphService("embedding_cache_mib", 0)
"""The server's `--embedding_cache_mib`: MiB of vectors each embeddings graph keeps (0: none)."""
