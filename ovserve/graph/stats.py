"""What a loaded graph's nodes report while it serves: `Graph.stats()`.

A node takes part by making its load-time state (`GraphLoadContext.node_state`) satisfy
`ReportsBatches`; the engine asks each state, so readers such as the metrics collectors need
to know neither the calculators nor where they keep their counters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable


@runtime_checkable
class ReportsBatches(Protocol):
    """A node state that runs a model in batches."""

    def batch_size_counts(self) -> Mapping[int, int]:
        """Inferences run so far by their number of rows. Thread-safe; a copy."""
        ...


@dataclass(frozen=True)
class CacheCounts:
    """A result cache's counters: look-ups answered from it and not, and what it holds."""

    hits: int = 0
    misses: int = 0
    bytes: int = 0
    entries: int = 0


@runtime_checkable
class ReportsCache(Protocol):
    """A node state that keeps a result cache."""

    def cache_counts(self) -> CacheCounts:
        """The counters now. Thread-safe."""
        ...


@dataclass(frozen=True)
class GraphStats:
    """A snapshot of one graph.

    Attributes:
        batch_sizes: inferences by rows per inference, summed over the graph's model nodes
            (empty when no node batches).
        cache: the counters of the graph's result cache, None when it has none.
        node_batches: for each batch-capable node (`BatchCalculator`), by node name, its
            calls so far by the number of runs each took (`ovserve.graph.batch_runs`).
    """

    batch_sizes: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    cache: CacheCounts | None = None
    node_batches: Mapping[str, Mapping[int, int]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(
        cls, node_states: Iterable[object], node_batches: Mapping[str, Mapping[int, int]] | None = None
    ) -> GraphStats:
        """The sum of what each node state reports, with the engine's `node_batches`."""
        sizes: dict[int, int] = {}
        cache: CacheCounts | None = None
        for state in node_states:
            if isinstance(state, ReportsBatches):
                for rows, count in state.batch_size_counts().items():
                    sizes[rows] = sizes.get(rows, 0) + count
            if isinstance(state, ReportsCache):
                cache = state.cache_counts()
        return cls(
            batch_sizes=MappingProxyType(sizes),
            cache=cache,
            node_batches=MappingProxyType(dict(node_batches or {})),
        )
