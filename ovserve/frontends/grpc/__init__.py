"""The grpc.aio front end: KServe v2 `GRPCInferenceService` over the data plane.

`add_services` is called by `ovserve.server.Server` once, before `server.start()`. The
server should be created with `SERVER_OPTIONS`, which raise gRPC's default 4 MiB receive
limit to `MAX_MESSAGE_BYTES` (large embedding batches) and cap what is sent; a message over
the limit is refused by gRPC itself with RESOURCE_EXHAUSTED, before any handler runs.
"""

from __future__ import annotations

import grpc

from ovserve.dataplane import DataPlane
from ovserve.frontends.grpc.kserve_v2 import KServeServicer
from ovserve.frontends.grpc.service import add_servicer

__all__ = ["MAX_MESSAGE_BYTES", "SERVER_OPTIONS", "add_services", "server_options"]

MAX_MESSAGE_BYTES = 100 * 1024 * 1024


def server_options(max_message_bytes: int = MAX_MESSAGE_BYTES) -> list[tuple[str, int]]:
    """`grpc.aio.server(options=...)` limiting received and sent messages to `max_message_bytes`."""
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]


SERVER_OPTIONS = server_options()


def add_services(server: grpc.aio.Server, dataplane: DataPlane) -> None:
    """Register every gRPC service on `server` (called once, before `server.start()`)."""
    add_servicer(server, KServeServicer(dataplane))
