"""The metric families ovserve can export: names, types, labels and buckets (OVMS docs: metrics.md).

The `ovms_*` families keep OVMS's names, types, label names and histogram buckets, so OVMS
dashboards and alerts work unchanged. The `ovserve_*` families describe what OVMS has no
family for: admission, dynamic batching and tokens.

`select` turns the configured `metrics_list` into the set of enabled families: OVMS's default
set plus ovserve's own when the list is empty, exactly the listed ones otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ovserve.errors import ConfigError

Kind = Literal["counter", "gauge", "histogram"]

# OVMS: floor(10 * 1.8^i) µs for i = 0..32, 10 µs … about 25 minutes.
LATENCY_BUCKETS_US: tuple[float, ...] = tuple(float(math.floor(10 * 1.8**i)) for i in range(33))
# Rows per merged inference; the default --max_batch_size is 64.
BATCH_SIZE_BUCKETS: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)
# Graph request time in seconds, 1 ms … 30 s: an embeddings request lands in the low ones.
SECONDS_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
)
# Label values of graph requests; every combination exists at 0 for each graph of the workspace.
GRAPH_APIS = ("V3", "KServe")
GRAPH_INTERFACES = ("REST", "gRPC")
GRAPH_CODES = ("ok", "error", "rejected")
# (api, interface, method) of the calls that run a graph, and of those that run a plain model.
GRAPH_CALLS = (
    ("V3", "REST", "Unary"),
    ("KServe", "REST", "ModelInfer"),
    ("KServe", "gRPC", "ModelInfer"),
    ("KServe", "gRPC", "ModelInferStream"),
)
MODEL_CALLS = GRAPH_CALLS[1:]

INVALID_NAME = "Invalid name in metrics_list"

# Label sets, in OVMS's order.
REQUEST_LABELS = ("api", "interface", "method", "name", "version")
GRAPH_REQUEST_LABELS = ("api", "interface", "method", "name")
VERSIONED = ("name", "version")


@dataclass(frozen=True)
class Family:
    """One family: exported as `name`, with these label names (histograms add `le`)."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        # -- OVMS default set -----------------------------------------------------------------
        Family(
            "ovms_current_requests", "gauge", "Number of inference requests currently in process.", VERSIONED
        ),
        Family(
            "ovms_requests_success",
            "counter",
            "Number of successful requests to a model or a DAG.",
            REQUEST_LABELS,
        ),
        Family(
            "ovms_requests_fail", "counter", "Number of failed requests to a model or a DAG.", REQUEST_LABELS
        ),
        Family(
            "ovms_request_time_us",
            "histogram",
            "Processing time of requests to a model or a DAG.",
            ("interface", "name", "version"),
            LATENCY_BUCKETS_US,
        ),
        Family("ovms_streams", "gauge", "Number of OpenVINO execution streams.", VERSIONED),
        Family(
            "ovms_inference_time_us",
            "histogram",
            "Inference execution time in the OpenVINO backend.",
            VERSIONED,
            LATENCY_BUCKETS_US,
        ),
        Family(
            "ovms_wait_for_infer_req_time_us",
            "histogram",
            "Request waiting time in the scheduling queue.",
            VERSIONED,
            LATENCY_BUCKETS_US,
        ),
        Family("ovms_current_graphs", "gauge", "Number of graphs currently in process.", ("name",)),
        Family(
            "ovms_requests_accepted",
            "counter",
            "Number of accepted requests to a graph.",
            GRAPH_REQUEST_LABELS,
        ),
        Family(
            "ovms_requests_rejected",
            "counter",
            "Number of rejected requests to a graph.",
            GRAPH_REQUEST_LABELS,
        ),
        Family("ovms_graph_error", "counter", "Number of graph errors.", GRAPH_REQUEST_LABELS),
        Family(
            "ovms_graph_processing_time_us",
            "histogram",
            "Time for a graph to process a request.",
            ("name", "method"),
            LATENCY_BUCKETS_US,
        ),
        Family("ovms_responses", "counter", "Number of responses sent by graphs.", GRAPH_REQUEST_LABELS),
        # -- OVMS optional (only when listed) -------------------------------------------------
        Family(
            "ovms_infer_req_queue_size",
            "gauge",
            "Inference request queue size (ovserve: the optimal number of infer requests of the model).",
            VERSIONED,
        ),
        Family(
            "ovms_infer_req_active", "gauge", "Number of currently consumed inference requests.", VERSIONED
        ),
        # -- ovserve's own ----------------------------------------------------------------------
        Family(
            "ovserve_admission_queue_depth",
            "gauge",
            "Requests admitted and not yet answered, per graph or model (--max_inflight_requests bounds it).",
            ("name",),
        ),
        Family(
            "ovserve_batch_size",
            "histogram",
            "Rows (texts) per inference of a graph's embeddings model, after dynamic batching.",
            ("name",),
            BATCH_SIZE_BUCKETS,
        ),
        Family(
            "ovserve_node_batch_runs",
            "histogram",
            "Graph runs per call of a batch-capable node (pooling, normalize, response): runs that "
            "reach the node together share one call.",
            ("name", "node"),
            BATCH_SIZE_BUCKETS,
        ),
        Family(
            "ovserve_requests_total",
            "counter",
            "Graph requests by outcome: ok (answered), error (the graph failed), rejected (refused "
            "before it ran: overload, bad inputs).",
            ("name", "api", "interface", "code"),
        ),
        Family(
            "ovserve_request_duration_seconds",
            "histogram",
            "Time of a graph run, admission to answer, in seconds.",
            ("name", "api", "interface"),
            SECONDS_BUCKETS,
        ),
        Family(
            "ovserve_prompt_tokens_total",
            "counter",
            "Prompt tokens embedded by a graph (the usage of its answers).",
            ("name",),
        ),
        Family(
            "ovserve_embedding_cache_lookups_total",
            "counter",
            "Documents looked up in a graph's embedding cache, by result: hit or miss.",
            ("name", "result"),
        ),
        Family(
            "ovserve_embedding_cache_bytes",
            "gauge",
            "Bytes a graph's embedding cache holds (vectors, keys and bookkeeping).",
            ("name",),
        ),
    )
}

OPTIONAL = frozenset({"ovms_infer_req_queue_size", "ovms_infer_req_active"})
DEFAULT = frozenset(FAMILIES) - OPTIONAL


def select(metrics_list: tuple[str, ...]) -> frozenset[str]:
    """The enabled family names: `DEFAULT` for an empty list, else exactly the listed ones.

    Raises:
        ConfigError: `Invalid name in metrics_list: <name>` for a name not in `FAMILIES`.
    """
    if not metrics_list:
        return DEFAULT
    for name in metrics_list:
        if name not in FAMILIES:
            raise ConfigError(f"{INVALID_NAME}: {name} (known: {', '.join(sorted(FAMILIES))})")
    return frozenset(metrics_list)
