"""Prometheus metrics: OVMS's `ovms_*` families and ovserve's `ovserve_*` ones (OVMS docs: metrics.md).

* `families`: names, types, labels, buckets; `metrics_list` selection.
* `settings`: on or off, from `--metrics_enable`/`--metrics_list` and `config.json`.
* `context`: the protocol labels of the request being served (set by the front ends' hooks).
* `recorder`: `Metrics`, one per server, in a private registry; `render` for `/metrics`.
* `dataplane`: `MeteredDataPlane`, where every inference's outcome is recorded.
* `collectors`, `exposition`: scrape-time families; the OVMS-shaped text format.

Nothing here imports a web or RPC framework; the REST route and middleware and the gRPC
interceptor live in the front ends.
"""

from __future__ import annotations

from ovserve.metrics.context import CALL, Call, current_call, grpc_call, kserve_rest_target, rest_call
from ovserve.metrics.dataplane import MeteredDataPlane
from ovserve.metrics.exposition import CONTENT_TYPE
from ovserve.metrics.families import DEFAULT, FAMILIES, INVALID_NAME, select
from ovserve.metrics.recorder import Metrics
from ovserve.metrics.settings import enabled_families

__all__ = [
    "CALL",
    "CONTENT_TYPE",
    "DEFAULT",
    "FAMILIES",
    "INVALID_NAME",
    "Call",
    "MeteredDataPlane",
    "Metrics",
    "current_call",
    "enabled_families",
    "grpc_call",
    "kserve_rest_target",
    "rest_call",
    "select",
]
