"""The grpc.aio front end: KServe v2 `GRPCInferenceService` over the data plane.

`make_server` builds the `grpc.aio.Server` (message limits, API key, access log) and registers the
services; `ovserve.server.Server` calls it once and binds the port with `bind`. A message over
`RequestLimits.max_grpc_message_bytes` (default 100 MiB, gRPC's own default is 4 MiB) is
refused by gRPC itself with RESOURCE_EXHAUSTED, before any handler runs.
"""

from __future__ import annotations

import grpc

from ovserve.config import ServerConfig, TlsSettings
from ovserve.dataplane import DataPlane
from ovserve.frontends.grpc.interceptors import (
    ApiKeyInterceptor,
    MethodWrapper,
    access_logged,
    metrics_labelled,
    wrap_methods,
)
from ovserve.frontends.grpc.kserve_v2 import KServeServicer
from ovserve.frontends.grpc.service import add_servicer
from ovserve.metrics import Metrics
from ovserve.security.api_key import ApiKey

__all__ = ["MAX_MESSAGE_BYTES", "SERVER_OPTIONS", "add_services", "bind", "make_server", "server_options"]

MAX_MESSAGE_BYTES = 100 * 1024 * 1024


def server_options(max_message_bytes: int = MAX_MESSAGE_BYTES) -> list[tuple[str, int]]:
    """`grpc.aio.server(options=...)` limiting received and sent messages to `max_message_bytes`."""
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]


SERVER_OPTIONS = server_options()


def add_services(server: grpc.aio.Server, dataplane: DataPlane, wrap: MethodWrapper | None = None) -> None:
    """Register every gRPC service on `server` (called once, before `server.start()`), each
    method's handler passed through `wrap` when given."""
    add_servicer(server, KServeServicer(dataplane), wrap)


def make_server(
    config: ServerConfig, dataplane: DataPlane, metrics: Metrics | None = None
) -> grpc.aio.Server:
    """A server with the configured message limits, API key and access log, services added.

    With `metrics`, every RPC is labelled for `ovserve.metrics` (see `metrics_labelled`).
    The access log and the metrics labels wrap each method's handler once, here; only the
    API key check is an interceptor (it must refuse before the request is decoded), and it
    wraps its refusals the same way, so that a refused call is still logged.
    """
    wrappers: list[MethodWrapper] = []
    if config.access_log:
        wrappers.append(access_logged)
    if metrics is not None:
        wrappers.append(metrics_labelled(metrics))
    wrap = wrap_methods(*wrappers) if wrappers else None
    interceptors: list[grpc.aio.ServerInterceptor] = []
    if config.api_key:
        interceptors.append(ApiKeyInterceptor(ApiKey(config.api_key), wrap))
    server = grpc.aio.server(
        options=server_options(config.limits.max_grpc_message_bytes), interceptors=interceptors or None
    )
    add_services(server, dataplane, wrap)
    return server


def bind(server: grpc.aio.Server, address: str, tls: TlsSettings | None) -> int:
    """Listen on `address` (plain text, or TLS / mutual TLS); returns the bound port."""
    if tls is None:
        port: int = server.add_insecure_port(address)
        return port
    client_ca = tls.ca_certfile.read_bytes() if tls.ca_certfile is not None else None
    credentials = grpc.ssl_server_credentials(
        [(tls.keyfile.read_bytes(), tls.certfile.read_bytes())],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )
    port = server.add_secure_port(address, credentials)
    return port
