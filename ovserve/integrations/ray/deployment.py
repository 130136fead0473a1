"""The Ray Serve deployment: N replicas, each a complete ovserve behind Ray's HTTP proxy.

Each replica is an `OvserveReplica` actor that starts an `EmbeddedServer` (the real data plane
and REST application of `ovserve`, on a private Unix socket) in its constructor, so Ray only
routes traffic to a replica once its workspace has loaded. `__call__` receives every HTTP
request of the application from Ray's proxy and replays it unchanged on the socket; the answer
goes back byte for byte with one more header, `X-Ovserve-Replica`, naming the replica.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from ray import serve
from ray.serve import Application
from starlette.requests import Request
from starlette.responses import Response

from ovserve.config import ServerConfig
from ovserve.frontends.rest.errors import error_response, kserve_error_body
from ovserve.integrations.ray.embedded import (
    EmbeddedServer,
    Forwarded,
    Forwarder,
    threaded_plugin_properties,
)
from ovserve.runtime import shared_core
from ovserve.server import workspace_from_config

log = logging.getLogger(__name__)

REPLICA_HEADER = "X-Ovserve-Replica"
"""Response header carrying the unique id of the Ray Serve replica that answered."""
DEFAULT_MAX_ONGOING_REQUESTS = 32
"""Requests Ray sends one replica at once; ovserve batches concurrent requests, so more than
Ray's default of 5 keeps batches full, and ovserve's own admission bound (256) stays above it."""
_START_TIMEOUT_SECONDS = 600.0
# As `ovserve.logging_setup`: OVMS's TRACE is finer than DEBUG, which Python lacks.
_LOG_LEVELS = {
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
}
# Ray's proxy sends its own `x-request-id` (the client's, when it sent a usable one), `date`
# and `server`; ovserve's copies would only duplicate them.
_DROPPED_RESPONSE_HEADERS = frozenset({b"x-request-id", b"date", b"server"})


class OvserveReplica:
    """One Ray Serve replica: a full ovserve reached through a Unix socket (see module docstring).

    Args:
        config: ovserve settings (workspace, batching, limits, API key...); ports and TLS are
            ignored, Ray's proxy owns the network.
        inference_threads: OpenVINO CPU threads of this replica (`INFERENCE_NUM_THREADS`).
        pin_threads: let OpenVINO pin its threads to cores (off: replicas share a host).
    """

    def __init__(self, config: ServerConfig, inference_threads: int, pin_threads: bool = False) -> None:
        _log_to_stderr(config.log_level)
        self.replica_id = serve.get_replica_context().replica_id.unique_id
        self._socket_dir = Path(tempfile.mkdtemp(prefix="ovserve-ray-"))
        self._server = EmbeddedServer(
            config,
            self._socket_dir / "rest.sock",
            plugin_properties=threaded_plugin_properties(inference_threads, pin_threads=pin_threads),
        )
        try:
            self._server.start(timeout=_START_TIMEOUT_SECONDS)
        except BaseException:
            self._server.stop()
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            raise
        self._forwarder = Forwarder(self._server.socket_path)
        self._closed = False
        log.info("ovserve replica %s ready (%d inference threads)", self.replica_id, inference_threads)

    async def __call__(self, request: Request) -> Response:
        scope = request.scope
        try:
            answer = await self._forwarder.forward(
                request.method,
                _target(scope),
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
                await request.body(),
            )
        except aiohttp.ClientError as exc:
            # Only when the embedded server is gone (stopping, or its thread died).
            log.warning("replica %s: embedded ovserve unreachable: %s", self.replica_id, exc)
            # No route can be matched without the server, so the body is KServe's.
            failed = error_response(kserve_error_body, 503, "Server is not ready")
            assert failed.body is None or isinstance(failed.body, bytes)
            answer = Forwarded(
                status=failed.status,
                headers=[(b"content-type", failed.headers["Content-Type"].encode("latin-1"))],
                body=failed.body or b"",
            )
        return self._response(answer)

    def _response(self, answer: Forwarded) -> Response:
        headers = [
            (name.lower(), value)
            for name, value in answer.headers
            if name.lower() not in _DROPPED_RESPONSE_HEADERS
        ]
        if not any(name == b"content-length" for name, _ in headers) and _has_body(answer.status):
            headers.append((b"content-length", str(len(answer.body)).encode()))
        headers.append((REPLICA_HEADER.lower().encode(), self.replica_id.encode("latin-1")))
        response = Response(content=answer.body, status_code=answer.status)
        # ovserve's headers as they were, rather than the ones Starlette derives from the body
        # (which would give a HEAD answer a length of 0).
        response.raw_headers = headers
        return response

    def openvino_cpu_properties(self) -> dict[str, str]:
        """The CPU plugin defaults this replica compiles with (a handle method, for checks)."""
        core = shared_core(self._server.config.cache_dir)
        names = ("INFERENCE_NUM_THREADS", "ENABLE_CPU_PINNING")
        return {name: str(core.get_property("CPU", name)) for name in names}

    def check_health(self) -> None:
        """Ray's periodic health check: fails once the embedded server's thread has died."""
        if not self._server.alive:
            raise RuntimeError(f"embedded ovserve of replica {self.replica_id} is not running")

    def __del__(self) -> None:
        """Ray calls this on scale-down and shutdown: drain as ovserve does on SIGTERM.

        Synchronous and idempotent, because Python calls it once more when the object dies.
        Blocking Ray's user-code loop here is harmless: Ray calls it only after the replica's
        ongoing requests have finished (or `graceful_shutdown_timeout_s` ran out).
        """
        if getattr(self, "_closed", True):
            return
        self._closed = True
        self._server.stop(timeout=self._server.config.shutdown_timeout_seconds + 5)
        shutil.rmtree(self._socket_dir, ignore_errors=True)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._closing = loop.create_task(self._forwarder.close())


def _has_body(status: int) -> bool:
    return status >= 200 and status not in (204, 304)


def _log_to_stderr(level: str) -> None:
    """ovserve's log lines (access log included) on the replica's stderr, in ovserve's format.

    Ray keeps each worker's stderr in its session logs (and shows it on the driver when
    `log_to_driver` is on). Only ovserve's own loggers are touched, not Ray's or the root.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s][%(levelname)s][%(name)s] %(message)s"))
    for name in ("ovserve", "calculators"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(_LOG_LEVELS.get(level, logging.ERROR))
        logger.propagate = False


def _path(scope: Mapping[str, Any]) -> str:
    """The request path below the application's route prefix (Ray puts that into `root_path`)."""
    path = str(scope["path"])
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    return path or "/"


def _target(scope: Mapping[str, Any]) -> str:
    """Percent-encoded path and query as the client sent them, below the route prefix."""
    raw = scope.get("raw_path")
    root = str(scope.get("root_path", ""))
    if isinstance(raw, bytes):
        path = raw.decode("latin-1")
        encoded_root = quote(root)
        if root and path.startswith(encoded_root):
            path = path[len(encoded_root) :]
        path = path or "/"
    else:
        path = quote(_path(scope))
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def build_app(
    config_path: str | Path | None = None,
    *,
    replicas: int = 2,
    num_cpus: float = 1.0,
    inference_threads: int | None = None,
    pin_threads: bool = False,
    max_ongoing_requests: int = DEFAULT_MAX_ONGOING_REQUESTS,
    server: ServerConfig | None = None,
    name: str = "ovserve",
    deployment_options: Mapping[str, Any] | None = None,
) -> Application:
    """An ovserve workspace as a Ray Serve application: `serve.run(build_app("models/config.json"))`.

    Every replica serves every route of ovserve's REST front end (OpenAI `/v3/...`, KServe v2,
    TFS, `/v1/config`, health) with ovserve's bodies and error shapes.

    Args:
        config_path: the workspace's `config.json`; made absolute here, so it must be readable
            at the same path on every node. None: `server` names the workspace (single-model
            mode works too).
        replicas: number of replicas (`num_replicas`).
        num_cpus: Ray CPUs reserved per replica.
        inference_threads: OpenVINO CPU threads per replica; default `num_cpus` rounded down
            (at least 1), so that replicas on one host do not oversubscribe its cores.
        pin_threads: let OpenVINO pin threads to cores (only for one replica per host).
        max_ongoing_requests: requests Ray sends one replica at once.
        server: other ovserve settings (batching, limits, API key, `shutdown_timeout_seconds`...);
            its ports and TLS are ignored, terminate TLS at Ray's proxy or in front of it.
        name: the deployment name.
        deployment_options: more `serve.deployment` options (e.g. `autoscaling_config`,
            `max_queued_requests`), applied last.

    Raises:
        ValueError: no workspace named, or a count below 1.
        ConfigError: the workspace's files are invalid (checked here, before any replica starts,
            since Ray would otherwise retry failing replica constructors for minutes).
    """
    config = server if server is not None else ServerConfig()
    if config_path is not None:
        config = dataclasses.replace(
            config, config_path=Path(config_path).resolve(), model_name=None, model_path=None
        )
    if config.config_path is None and config.model_path is None:
        raise ValueError("build_app() needs config_path, or a ServerConfig naming a workspace")
    if replicas < 1 or max_ongoing_requests < 1 or num_cpus <= 0:
        raise ValueError("replicas, max_ongoing_requests and num_cpus must be positive")
    threads = inference_threads if inference_threads is not None else max(1, math.floor(num_cpus))
    threaded_plugin_properties(threads)  # validates
    workspace_from_config(config)
    options: dict[str, Any] = {
        "name": name,
        "num_replicas": replicas,
        "ray_actor_options": {"num_cpus": num_cpus},
        "max_ongoing_requests": max_ongoing_requests,
        # Ray's default (20 s) would cut ovserve's drain short when it is configured longer.
        "graceful_shutdown_timeout_s": config.shutdown_timeout_seconds + 10,
    }
    options.update(deployment_options or {})
    deployment = serve.deployment(**options)(OvserveReplica)
    return deployment.bind(config, threads, pin_threads)
