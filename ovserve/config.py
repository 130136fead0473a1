"""Server settings, built once from the command line (and environment) by `ovserve.cli`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class CorsSettings:
    """OVMS's CORS flags; values are sent verbatim in the `Access-Control-Allow-*` headers."""

    allowed_origins: str = "*"
    allowed_methods: str = "*"
    allowed_headers: str = "*"
    allow_credentials: bool = False


@dataclass(frozen=True, kw_only=True)
class RequestLimits:
    """Front-end limits; every one refuses with a clear 4xx / gRPC status, never a 5xx.

    `max_inflight_requests` bounds the requests being served per servable (model or graph);
    one more is refused at once (REST 429 + `Retry-After`, gRPC RESOURCE_EXHAUSTED). 0 means
    unbounded. `max_inflight_per_servable` overrides it per name.
    """

    max_body_bytes: int = 64 * 1024 * 1024
    max_inputs_per_request: int = 2048
    # Tokens (non-padding, as `usage.prompt_tokens` counts) per request; 0 = no limit. Bounds
    # the work and the hidden-state memory one request can ask for.
    max_tokens_per_request: int = 262_144
    max_inflight_requests: int = 256
    max_inflight_per_servable: Mapping[str, int] = field(default_factory=dict)
    request_timeout_seconds: float | None = None
    max_grpc_message_bytes: int = 100 * 1024 * 1024

    def inflight_limit(self, servable: str) -> int:
        """The in-flight bound of `servable` (0: unbounded)."""
        return self.max_inflight_per_servable.get(servable, self.max_inflight_requests)


@dataclass(frozen=True, kw_only=True)
class TlsSettings:
    """PEM files for TLS on both front ends; `ca_certfile` turns on mutual TLS (client certs required)."""

    certfile: Path
    keyfile: Path
    ca_certfile: Path | None = None


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Everything the server needs to start; immutable once built.

    Ports: `None` turns the front end off. `0` asks the OS for a free port (tests use this;
    the command line maps OVMS's `--port 0` to `None`, so 0 keeps its OVMS meaning there).
    Exactly one of `config_path` and (`model_name`, `model_path`) is set.
    """

    grpc_port: int | None = None
    rest_port: int | None = None
    grpc_bind_address: str = "0.0.0.0"
    rest_bind_address: str = "0.0.0.0"
    grpc_workers: int = 1
    rest_workers: int | None = None
    config_path: Path | None = None
    model_name: str | None = None
    model_path: Path | None = None
    target_device: str = "CPU"
    plugin_config: Mapping[str, str] = field(default_factory=dict)
    file_system_poll_wait_seconds: int = 1
    log_level: str = "INFO"
    log_path: Path | None = None
    cache_dir: Path | None = None
    metrics_enable: bool = False
    metrics_list: tuple[str, ...] = ()
    api_key: str | None = None
    cors: CorsSettings = field(default_factory=CorsSettings)
    calculator_modules: tuple[str, ...] = ()
    model_aliases: Mapping[str, str] = field(default_factory=dict)
    """`--model_alias ALIAS=NAME`: extra client names (`ovserve.names`); win over `aliases.json`."""
    graph_threads: int = 0
    """Threads that run graphs; 0: 8 per CPU core, at least 64 (`ovserve.graph.executor`)."""
    batching: bool = True
    """Merge concurrent embeddings requests per model (`calculators.batching`); graphs may override."""
    max_batch_size: int = 64
    max_batch_tokens: int = 8192
    pad_to_multiple_of: int = 16
    embedding_cache_mib: int = 0
    """MiB of vectors each embeddings graph of an OVMS form keeps for repeated documents; 0: none."""
    limits: RequestLimits = field(default_factory=RequestLimits)
    tls: TlsSettings | None = None
    shutdown_timeout_seconds: float = 10.0
    """SIGTERM: in-flight requests get this long to finish before the process exits."""
    access_log: bool = True
    """One structured line per request on the `ovserve.access` logger (INFO)."""
