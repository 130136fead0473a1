"""Which API, interface and method a request came in through, for the labels of its metrics.

The front ends know the protocol; the code that sees the outcome (admission, the data plane)
does not. Each front end's hook (REST middleware, gRPC interceptor) sets `CALL` for the
request it handles; the recorder reads it. A contextvar travels with the request's task and
into every coroutine it awaits, at no cost to code that does not look.
"""

from __future__ import annotations

import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

INFERENCE_METHODS = frozenset({"Unary", "ModelInfer", "ModelInferStream"})
STATUS_METHODS = frozenset({"ModelMetadata", "ModelReady"})
_KSERVE_PATH = re.compile(r"/v2/models/(?P<name>.+?)(?:/versions/(?P<version>[0-9]+))?(?:/ready|/infer)?/?")


@dataclass(frozen=True)
class Call:
    """OVMS label values of one request (`api` KServe or V3, `interface` REST or gRPC).

    `started` is when the front end took the request (perf_counter seconds), for
    `ovms_request_time_us`; None for a stream, whose requests are timed one by one.
    """

    api: str
    interface: str
    method: str
    started: float | None = field(default_factory=time.perf_counter)

    @property
    def inference(self) -> bool:
        """True for calls that run a model or a graph (recorded by the data plane)."""
        return self.method in INFERENCE_METHODS

    @property
    def status(self) -> bool:
        """True for KServe metadata and readiness calls (recorded by the front ends' hooks)."""
        return self.method in STATUS_METHODS


CALL: ContextVar[Call | None] = ContextVar("ovserve_metrics_call", default=None)


def current_call() -> Call | None:
    """The call being served in this task, or None outside the front ends."""
    return CALL.get()


def rest_call(method: str, path: str) -> Call | None:
    """The labels of a REST request, or None for routes without request metrics."""
    if method == "POST" and (path.startswith("/v3/") or path == "/v1/embeddings"):
        return Call("V3", "REST", "Unary")
    if path.startswith("/v2/models/"):
        if method == "POST":
            return Call("KServe", "REST", "ModelInfer")
        if method == "GET":
            return Call(
                "KServe", "REST", "ModelReady" if path.rstrip("/").endswith("/ready") else "ModelMetadata"
            )
    return None


def kserve_rest_target(path: str) -> tuple[str, str | None] | None:
    """(name, version or None) of a `/v2/models/{name}[/versions/{v}][/ready|/infer]` path."""
    match = _KSERVE_PATH.fullmatch(path)
    if match is None:
        return None
    return match["name"], match["version"]


def grpc_call(rpc: str) -> Call:
    """The labels of a KServe gRPC call; OVMS names the stream method `ModelInferStream`."""
    if rpc == "ModelStreamInfer":
        return Call("KServe", "gRPC", "ModelInferStream", started=None)
    return Call("KServe", "gRPC", rpc)
