"""The grpc.aio front end: KServe v2 `GRPCInferenceService` over the data plane."""

from __future__ import annotations

import grpc

from ovserve.repository import Repository


def add_services(server: grpc.aio.Server, repository: Repository) -> None:
    """Register every gRPC service on `server` (called once, before `server.start()`)."""
