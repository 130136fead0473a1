"""`Metrics`: the families of one server, in its own registry, and the calls that move them.

One `Metrics` per `Server`, each with a private `CollectorRegistry` (never the process-wide
default: tests run several servers in one process). Families switched off by `metrics_list`
are never created, and every recording method checks for that first.

Threading: recording methods are called on the event loop (the data plane and the admission
guard live there). Each is a few dictionary look-ups and an increment under
prometheus_client's short per-series lock; no lock is held across an await. `render` runs the
scrape-time collectors and formats the text; call it off the loop (`asyncio.to_thread`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from ovserve.errors import OvserveError
from ovserve.metrics.collectors import ScrapeCollector
from ovserve.metrics.context import Call, current_call
from ovserve.metrics.exposition import render
from ovserve.metrics.families import (
    FAMILIES,
    GRAPH_APIS,
    GRAPH_CALLS,
    GRAPH_CODES,
    GRAPH_INTERFACES,
    MODEL_CALLS,
)
from ovserve.repository import Repository
from ovserve.status import VersionState

# Families whose values are read when scraped (see `collectors`); the rest are event-driven.
SCRAPED = frozenset(
    {
        "ovms_streams",
        "ovms_infer_req_queue_size",
        "ovserve_admission_queue_depth",
        "ovserve_batch_size",
        "ovserve_node_batch_runs",
        "ovserve_embedding_cache_lookups_total",
        "ovserve_embedding_cache_bytes",
    }
)
US = 1_000_000


@dataclass(frozen=True, kw_only=True)
class ModelTimes:
    """One direct model inference, in seconds.

    Attributes:
        infer_s: the OpenVINO inference itself (`ovms_inference_time_us`).
        wait_s: waiting for a free infer request (`ovms_wait_for_infer_req_time_us`).
        request_s: from the front end's start of the request (`ovms_request_time_us`).
    """

    infer_s: float
    wait_s: float
    request_s: float


_GRAPH_COUNTERS = ("ovms_requests_accepted", "ovms_requests_rejected", "ovms_responses", "ovms_graph_error")


class Metrics:
    """The enabled families of one server and the events that move them.

    Args:
        enabled: family names to export (see `families.select`).
        repository: read at scrape time for model streams and graph batch sizes.
        inflight: admitted requests per servable now (`RequestGuard.inflight_counts`); read
            at scrape time from the rendering thread, so it must be safe to call from there.
    """

    def __init__(
        self,
        enabled: frozenset[str],
        repository: Repository,
        inflight: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self.enabled = enabled
        self.registry = CollectorRegistry(auto_describe=False)
        self._repository = repository
        self._series: dict[str, MetricWrapperBase] = {}
        self._children: dict[tuple[str, tuple[str, ...]], Any] = {}
        for name in sorted(enabled - SCRAPED):
            family = FAMILIES[name]
            if family.kind == "counter":
                self._series[name] = Counter(name, family.help, family.labels, registry=self.registry)
            elif family.kind == "gauge":
                self._series[name] = Gauge(name, family.help, family.labels, registry=self.registry)
            else:
                self._series[name] = Histogram(
                    name, family.help, family.labels, registry=self.registry, buckets=family.buckets
                )
        self.registry.register(ScrapeCollector(enabled & SCRAPED, repository, inflight or dict))

    def render(self) -> bytes:
        """The Prometheus text of every enabled family. Blocking: call off the event loop.

        The request series of every graph of the workspace and of every AVAILABLE model
        version exist, at 0 until used (OVMS's families too), so that rate and error-ratio
        panels read 0 rather than "no data".
        """
        for graph in self._repository.workspace.graphs:
            self._prime_graph(graph.name)
        for name, statuses in self._repository.models.statuses().items():
            for status in statuses:
                if status.state == VersionState.AVAILABLE:
                    self._prime_model(name, str(status.version))
        return render(self.registry)

    def _prime_graph(self, name: str) -> None:
        for api in GRAPH_APIS:
            for interface in GRAPH_INTERFACES:
                for code in GRAPH_CODES:
                    self._child("ovserve_requests_total", (name, api, interface, code))
                self._child("ovserve_request_duration_seconds", (name, api, interface))
        self._child("ovms_current_graphs", (name,))
        for api, interface, method in GRAPH_CALLS:
            for family in (
                "ovms_requests_accepted",
                "ovms_requests_rejected",
                "ovms_responses",
                "ovms_graph_error",
            ):
                self._child(family, (api, interface, method, name))
            self._child("ovms_graph_processing_time_us", (name, method))

    def _prime_model(self, name: str, version: str) -> None:
        for api, interface, method in MODEL_CALLS:
            for family in ("ovms_requests_success", "ovms_requests_fail"):
                self._child(family, (api, interface, method, name, version))
        for interface in GRAPH_INTERFACES:
            self._child("ovms_request_time_us", (interface, name, version))
        for family in (
            "ovms_inference_time_us",
            "ovms_wait_for_infer_req_time_us",
            "ovms_current_requests",
            "ovms_infer_req_active",
        ):
            self._child(family, (name, version))

    # -- graphs -------------------------------------------------------------------------------

    def graph_started(self, name: str, call: Call | None) -> None:
        """A graph run for `name` begins (the request passed admission and its checks)."""
        self._inc("ovms_current_graphs", name)
        if call is not None and call.inference:
            self._inc("ovms_requests_accepted", call.api, call.interface, call.method, name)

    def graph_finished(
        self, name: str, call: Call | None, seconds: float, *, ok: bool, prompt_tokens: int = 0
    ) -> None:
        """The run ended, answered (`ok`) or failed; `prompt_tokens` is the usage it answered."""
        self._inc("ovms_current_graphs", name, amount=-1)
        if prompt_tokens:
            self._inc("ovserve_prompt_tokens_total", name, amount=prompt_tokens)
        if call is None or not call.inference:
            return
        outcome = "ovms_responses" if ok else "ovms_graph_error"
        self._inc(outcome, call.api, call.interface, call.method, name)
        self._inc("ovserve_requests_total", name, call.api, call.interface, "ok" if ok else "error")
        self._observe("ovserve_request_duration_seconds", seconds, name, call.api, call.interface)
        self._observe("ovms_graph_processing_time_us", seconds * US, name, call.method)

    def graph_rejected(self, name: str, call: Call | None) -> None:
        """A request for graph `name` was refused before the graph ran (overload, bad inputs)."""
        if call is not None and call.inference:
            self._inc("ovms_requests_rejected", call.api, call.interface, call.method, name)
            self._inc("ovserve_requests_total", name, call.api, call.interface, "rejected")

    # -- models -------------------------------------------------------------------------------

    def model_started(self, name: str, version: str) -> None:
        self._inc("ovms_current_requests", name, version)
        self._inc("ovms_infer_req_active", name, version)

    def model_finished(self, name: str, version: str, call: Call | None, times: ModelTimes, ok: bool) -> None:
        """One inference of model `name` ended (see `ModelTimes`)."""
        self._inc("ovms_current_requests", name, version, amount=-1)
        self._inc("ovms_infer_req_active", name, version, amount=-1)
        if ok:
            self._observe("ovms_inference_time_us", times.infer_s * US, name, version)
            self._observe("ovms_wait_for_infer_req_time_us", times.wait_s * US, name, version)
        if call is None or not call.inference:
            return
        self._inc(
            "ovms_requests_success" if ok else "ovms_requests_fail",
            call.api,
            call.interface,
            call.method,
            name,
            version,
        )
        self._observe("ovms_request_time_us", times.request_s * US, call.interface, name, version)

    def model_refused(self, name: str, call: Call | None) -> None:
        """A request for model `name` was refused at admission: it counts as failed."""
        if call is None or not call.inference:
            return
        try:
            version = str(self._repository.models.resolve(name).version)
        except OvserveError:
            return  # unknown names get no series (they would be unbounded)
        self._inc("ovms_requests_fail", call.api, call.interface, call.method, name, version)

    # -- metadata and readiness -----------------------------------------------------------------

    def status_answered(self, call: Call, name: str, version: str | None, ok: bool) -> None:
        """A KServe ModelMetadata or ModelReady call for `name` (`version` as requested) ended.

        As OVMS: graph series and ModelReady series have no `version`; ModelMetadata of a
        model is counted under the version it describes. Unknown names and versions are not
        counted.
        """
        label = ""
        if not self._repository.is_graph(name):
            versions = {str(s.version) for s in self._repository.models.statuses().get(name, ())}
            if not versions or (version is not None and version not in versions):
                return
            if call.method != "ModelReady":
                if version is None:
                    try:
                        version = str(self._repository.models.resolve(name).version)
                    except OvserveError:
                        return
                label = version
        family = "ovms_requests_success" if ok else "ovms_requests_fail"
        self._inc(family, call.api, call.interface, call.method, name, label)

    # -- admission (RequestGuard) -------------------------------------------------------------

    def refused(self, servable: str) -> None:
        """The admission guard refused a request for `servable` (it had its limit in flight)."""
        call = current_call()
        if self._repository.is_graph(servable):
            self.graph_rejected(servable, call)
        else:
            self.model_refused(servable, call)

    # -- helpers ------------------------------------------------------------------------------

    def _child(self, family: str, labels: tuple[str, ...]) -> Any:
        """The series of `family` with `labels`, or None when the family is off.

        Cached: `labels()` validates and locks on every call, which cost more than the
        increment itself. Series are never removed, so a cached child stays valid.
        """
        key = (family, labels)
        child = self._children.get(key)
        if child is None:
            series = self._series.get(family)
            if series is None:
                return None
            child = self._children.setdefault(key, series.labels(*labels))
        return child

    def _inc(self, family: str, *labels: str, amount: float = 1) -> None:
        """Add `amount` to a counter (never negative) or a gauge, if the family is enabled."""
        child = self._child(family, labels)
        if child is not None:
            child.inc(amount)

    def _observe(self, family: str, value: float, *labels: str) -> None:
        child = self._child(family, labels)
        if child is not None:
            child.observe(value)
