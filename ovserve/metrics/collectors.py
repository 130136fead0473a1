"""Families read when `/metrics` is scraped, not recorded per request.

Streams and infer-request counts are properties of the compiled models; the admission depth
is the guard's own bookkeeping; batch sizes are what each graph reports (`Graph.stats`).
Reading them at scrape time costs nothing on the request path.

`ScrapeCollector.collect` runs on the rendering thread, never on the event loop: everything it
reads is thread-safe (the model manager and graph table take their locks, the batcher copies
its counts under its lock, `inflight` copies a dict).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ovserve.errors import OvserveError
from ovserve.metrics.families import FAMILIES
from ovserve.models.manager import LoadedModelVersion
from ovserve.repository import Repository

log = logging.getLogger(__name__)


class ScrapeCollector(Collector):
    """Yields the enabled scrape-time families (`ovms_streams`, `ovms_infer_req_queue_size`,
    `ovserve_admission_queue_depth`, `ovserve_batch_size`, `ovserve_node_batch_runs`, the cache's)."""

    def __init__(
        self, enabled: frozenset[str], repository: Repository, inflight: Callable[[], Mapping[str, int]]
    ) -> None:
        self._enabled = enabled
        self._repository = repository
        self._inflight = inflight
        # Compiled-model properties never change; ask OpenVINO once per loaded version.
        self._properties: weakref.WeakKeyDictionary[LoadedModelVersion, tuple[int, int]] = (
            weakref.WeakKeyDictionary()
        )

    def collect(self) -> Iterator[Metric]:
        if {"ovms_streams", "ovms_infer_req_queue_size"} & self._enabled:
            yield from self._model_gauges()
        if "ovserve_admission_queue_depth" in self._enabled:
            family = _gauge("ovserve_admission_queue_depth")
            inflight = self._inflight()
            # Every configured servable, 0 when idle; names that are not (yet) known get no
            # series, since a client can send any name.
            for name in sorted(self._repository.statuses()):
                family.add_metric([name], inflight.get(name, 0))
            yield family
        if "ovserve_batch_size" in self._enabled:
            yield self._batch_sizes()
        if "ovserve_node_batch_runs" in self._enabled:
            yield self._node_batches()
        if {"ovserve_embedding_cache_lookups_total", "ovserve_embedding_cache_bytes"} & self._enabled:
            yield from self._caches()

    def _model_gauges(self) -> Iterator[Metric]:
        streams = _gauge("ovms_streams")
        queue = _gauge("ovms_infer_req_queue_size")
        models = self._repository.models
        for name in models.names():
            for loaded in models.served(name):
                stream_count, requests = self._model_properties(loaded)
                labels = [name, str(loaded.version)]
                streams.add_metric(labels, stream_count)
                queue.add_metric(labels, requests)
        if "ovms_streams" in self._enabled:
            yield streams
        if "ovms_infer_req_queue_size" in self._enabled:
            yield queue

    def _model_properties(self, loaded: LoadedModelVersion) -> tuple[int, int]:
        known = self._properties.get(loaded)
        if known is None:
            try:
                known = (
                    int(loaded.compiled.get_property("NUM_STREAMS")),
                    int(loaded.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")),
                )
            except (RuntimeError, TypeError, ValueError):
                log.debug("model %s version %d reports no stream count", loaded.name, loaded.version)
                known = (0, 0)
            self._properties[loaded] = known
        return known

    def _batch_sizes(self) -> Metric:
        spec = FAMILIES["ovserve_batch_size"]
        family = HistogramMetricFamily(spec.name, spec.help, labels=spec.labels)
        for name in sorted(self._repository.graphs.names()):
            counts = self._batch_size_counts(name)
            if not counts:
                continue
            family.add_metric([name], _buckets(counts, spec.buckets), sum_value=_total(counts))
        return family

    def _node_batches(self) -> Metric:
        spec = FAMILIES["ovserve_node_batch_runs"]
        family = HistogramMetricFamily(spec.name, spec.help, labels=spec.labels)
        for name in sorted(self._repository.graphs.names()):
            try:
                nodes = self._repository.graph(name).stats().node_batches
            except OvserveError:
                continue
            for node, counts in sorted(nodes.items()):
                family.add_metric([name, node], _buckets(counts, spec.buckets), sum_value=_total(counts))
        return family

    def _caches(self) -> Iterator[Metric]:
        spec = FAMILIES["ovserve_embedding_cache_lookups_total"]
        lookups = CounterMetricFamily(spec.name.removesuffix("_total"), spec.help, labels=spec.labels)
        held = _gauge("ovserve_embedding_cache_bytes")
        for name in sorted(self._repository.graphs.names()):
            try:
                counts = self._repository.graph(name).stats().cache
            except OvserveError:
                continue
            if counts is None:
                continue
            lookups.add_metric([name, "hit"], counts.hits)
            lookups.add_metric([name, "miss"], counts.misses)
            held.add_metric([name], counts.bytes)
        if "ovserve_embedding_cache_lookups_total" in self._enabled:
            yield lookups
        if "ovserve_embedding_cache_bytes" in self._enabled:
            yield held

    def _batch_size_counts(self, name: str) -> Mapping[int, int]:
        """Inferences by rows of the loaded graph `name` (`Graph.stats`); empty when not loaded."""
        try:
            graph = self._repository.graph(name)
        except OvserveError:
            return {}
        return graph.stats().batch_sizes


def _buckets(counts: Mapping[int, int], bounds: tuple[float, ...]) -> list[tuple[str, float]]:
    """Cumulative histogram buckets of `counts` (observations by size), ending with `+Inf`."""
    buckets: list[tuple[str, float]] = [
        (str(bound), sum(n for size, n in counts.items() if size <= bound)) for bound in bounds
    ]
    buckets.append(("+Inf", sum(counts.values())))
    return buckets


def _total(counts: Mapping[int, int]) -> float:
    """The sum of the observations in `counts` (size × how often)."""
    return float(sum(size * n for size, n in counts.items()))


def _gauge(name: str) -> GaugeMetricFamily:
    spec = FAMILIES[name]
    return GaugeMetricFamily(spec.name, spec.help, labels=spec.labels)
