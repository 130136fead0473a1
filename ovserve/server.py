"""The server process: REST and gRPC front ends over one repository, in one event loop.

Start-up order follows OVMS: validate the workspace (an invalid file stops start-up), open the
ports, then load models and graphs on a worker thread while `/v2/health/ready` answers 503
and `/v1/config` shows LOADING. When no entry of the workspace can serve (every one rejected
or failed to load), the process logs each entry's reason and exits with code 1
(`ovserve.startup_check`); a workspace without entries serves nothing, as OVMS. Shutdown
(SIGTERM/SIGINT) drains: both front ends stop accepting at once (listening sockets closed, new
gRPC calls refused), requests in flight get `shutdown_timeout_seconds` to finish, then the
models are released and the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import faulthandler
import logging
import signal
import sys
import time
from collections.abc import Awaitable
from types import TracebackType

import grpc
from aiohttp import web

from ovserve.admission import RequestGuard
from ovserve.config import ServerConfig
from ovserve.dataplane import DataPlane
from ovserve.errors import ConfigError
from ovserve.first_start import exported_graph, is_hugging_face_folder
from ovserve.frontends.grpc import bind, make_server
from ovserve.frontends.rest import make_app
from ovserve.graph import BATCHING, EMBEDDING_CACHE_MIB, BatchSettings, GraphServices
from ovserve.graph.executor import NodeExecutor
from ovserve.graph_factory import GraphFactory
from ovserve.lifecycle import GraphBuilder, Reloader, Watcher
from ovserve.logging_setup import configure_logging
from ovserve.metrics import MeteredDataPlane, Metrics, enabled_families
from ovserve.model_path_check import check_model_path
from ovserve.models import ModelManager
from ovserve.names import read_alias_file
from ovserve.ready_line import ready_message
from ovserve.repository import Repository
from ovserve.runtime import shared_core
from ovserve.runtime.execution import describe_cpu
from ovserve.security.tls import server_ssl_context
from ovserve.startup_check import unservable_reasons
from ovserve.workspace import Workspace, read_workspace, single_model_workspace

log = logging.getLogger(__name__)

# Connections waiting to be accepted (aiohttp's default is 128). Under a burst of new
# connections a short queue makes the kernel reset them before the admission control can
# answer 429; the kernel caps this at net.core.somaxconn.
REST_LISTEN_BACKLOG = 2048
# How long a thread may hold the GIL while another waits for it (Python's default: 5 ms). The
# event loop and the graph threads share the GIL (each OpenVINO call releases it); a longer
# interval forces fewer hand-overs between them. Measured under W2 (64 clients, one text each) in ABBA
# order, 20 ms against 5 ms in three runs: server CPU per request -3.1%, -10.1%, -8.0% (REST)
# and -10.2%, -2.6%, +0.3% (gRPC); 1 ms was +15.5% (REST) and +5.0% (gRPC). Only the `ovserve`
# process sets it: a server embedded in another program (tests, Ray Serve) leaves it as it is.
GIL_SWITCH_INTERVAL_S = 0.02


def workspace_from_config(config: ServerConfig) -> Workspace:
    """The workspace the flags name. Raises `ConfigError` when its files are invalid."""
    if config.config_path is not None:
        return read_workspace(config.config_path)
    # Both are set in single-model mode; the command line checks it.
    assert config.model_name is not None
    assert config.model_path is not None
    return single_model_workspace(
        config.model_name,
        config.model_path,
        target_device=config.target_device,
        plugin_config=config.plugin_config,
    )


class Server:
    """An async context manager that runs ovserve until stopped.

    Ports of 0 are bound to free ports; read them back from `rest_port` / `grpc_port`.

    Raises:
        ConfigError: the workspace is invalid, or so are its or the flags' metrics settings.
    """

    def __init__(self, config: ServerConfig, workspace: Workspace | None = None) -> None:
        self.config = config
        self.workspace = workspace if workspace is not None else workspace_from_config(config)
        families = enabled_families(config, self.workspace)
        # Every graph gets these at load (feature-extraction nodes read them), reloads too.
        batching = BatchSettings(
            enabled=config.batching,
            max_batch_size=config.max_batch_size,
            max_batch_tokens=config.max_batch_tokens,
            pad_to_multiple_of=config.pad_to_multiple_of,
        ).check(where="server batching defaults")
        self._executor = NodeExecutor(config.graph_threads or None)
        core = shared_core(config.cache_dir)
        # The CPU decides the arithmetic (bf16 and int8 activations where it has them), so the
        # log names it; each feature-extraction node logs what its model runs.
        log.info("CPU: %s", describe_cpu(core))
        # Passive state; the reloader brings it up (the first pass) and keeps it in step with disk.
        self.repository = Repository(self.workspace, ModelManager(core))
        graphs = GraphFactory(
            self._executor,
            GraphServices.of((BATCHING, batching), (EMBEDDING_CACHE_MIB, config.embedding_cache_mib)),
        )
        self.reloader = Reloader(self.repository, GraphBuilder(graphs, core))
        # One guard for both front ends: the in-flight bound of a servable counts both protocols.
        self.guard = RequestGuard(config.limits, on_refused=self._refused if families is not None else None)
        # Private registry per server (`ovserve.metrics`); None when metrics are off.
        self.metrics: Metrics | None = None
        if families is not None:
            self.metrics = Metrics(families, self.repository, self.guard.inflight_counts)
        aliases = {**read_alias_file(self.workspace.config_path), **config.model_aliases}
        # One data plane under both front ends: they answer the same request identically.
        self.dataplane = (
            MeteredDataPlane(
                self.repository, self.metrics, reloader=self.reloader, guard=self.guard, aliases=aliases
            )
            if self.metrics is not None
            else DataPlane(self.repository, reloader=self.reloader, guard=self.guard, aliases=aliases)
        )
        self.rest_port: int | None = None
        self.grpc_port: int | None = None
        self._runner: web.AppRunner | None = None
        self._grpc: grpc.aio.Server | None = None
        self._loading: asyncio.Task[None] | None = None
        # Polls config, graph and version files (0 = off); the first pass waits for the load.
        self.watcher = Watcher(self.reloader, config.file_system_poll_wait_seconds)

    async def start(self) -> None:
        """Open the ports, then start loading the workspace in the background."""
        config = self.config
        scheme = "TLS" if config.tls is not None else "plain text"
        if config.rest_port is not None:
            app = make_app(self.dataplane, config, self.metrics)
            self._runner = web.AppRunner(
                app, access_log=None, shutdown_timeout=config.shutdown_timeout_seconds
            )
            await self._runner.setup()
            ssl_context = server_ssl_context(config.tls) if config.tls is not None else None
            site = web.TCPSite(
                self._runner,
                config.rest_bind_address,
                config.rest_port,
                ssl_context=ssl_context,
                backlog=REST_LISTEN_BACKLOG,
            )
            await site.start()
            self.rest_port = _bound_port(site)
            log.info("REST server listening on %s:%d (%s)", config.rest_bind_address, self.rest_port, scheme)
        if config.grpc_port is not None:
            self._grpc = make_server(config, self.dataplane, self.metrics)
            address = f"{config.grpc_bind_address}:{config.grpc_port}"
            self.grpc_port = bind(self._grpc, address, config.tls)
            await self._grpc.start()
            log.info("gRPC server listening on %s:%d (%s)", config.grpc_bind_address, self.grpc_port, scheme)
        self._loading = asyncio.create_task(asyncio.to_thread(self.reloader.start))
        self.watcher.start(after=self._loading)

    async def wait_ready(self) -> None:
        """Wait until every servable has been loaded or has failed."""
        if self._loading is not None:
            await self._loading

    async def wait_loaded_or(self, stop: asyncio.Event) -> bool:
        """Wait until the start-up load has ended or `stop` is set; True when the load ended.

        The load is not cancelled when `stop` wins; `stop()` waits for it.
        """
        if self._loading is None:
            return True
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((self._loading, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        return self._loading.done()

    def unservable(self) -> list[str] | None:
        """After the start-up load: one reason per entry when none of them serves, else None.

        A load that raised (a bug: entries' failures are recorded, not raised) counts as
        nothing served, with its error as the first reason.
        """
        loading = self._loading
        crashed = loading.exception() if loading is not None and loading.done() else None
        reasons = unservable_reasons(self.workspace, self.repository.statuses())
        if crashed is not None:
            return [f"the start-up load failed: {type(crashed).__name__}: {crashed}", *(reasons or [])]
        return reasons

    async def stop(self, grace: float | None = None) -> None:
        """Drain: stop accepting on both ports, let in-flight requests finish, release models.

        `grace` (default `shutdown_timeout_seconds`) bounds the wait; requests still running
        then are cancelled. REST closes its listening sockets and idle keep-alive connections
        and waits for running handlers; gRPC refuses new calls and waits for running ones.
        """
        # First, so that no reload pass starts or runs while the models are released.
        await self.watcher.stop()
        grace = self.config.shutdown_timeout_seconds if grace is None else grace
        draining = []
        if self._runner is not None:
            draining.append(_timed("REST front end drained", self._runner.cleanup()))
        if self._grpc is not None:
            draining.append(_timed("gRPC front end drained", self._grpc.stop(grace)))
        await asyncio.gather(*draining)
        if self._loading is not None:
            with contextlib.suppress(Exception):
                await self._loading
        # Off the loop: closing waits for graphs' in-flight runs and for the reload lock.
        await _timed("graphs closed", asyncio.to_thread(self.repository.close))
        await asyncio.to_thread(self._executor.shutdown)

    def _refused(self, servable: str) -> None:
        if self.metrics is not None:
            self.metrics.refused(servable)

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def _timed(what: str, step: Awaitable[object]) -> None:
    """Await one shutdown step and log how long it took: a slow drain names its culprit."""
    started = time.perf_counter()
    await step
    log.info("%s in %.2f s", what, time.perf_counter() - started)


def _bound_port(site: web.TCPSite) -> int:
    server = site._server  # aiohttp keeps the asyncio.Server here; it is the only way to read port 0
    assert isinstance(server, asyncio.Server)
    port: int = server.sockets[0].getsockname()[1]
    return port


async def _serve_until_signalled(server: Server) -> int:
    """Serve until SIGINT/SIGTERM (exit code 0), or 1 when start-up left nothing to serve."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # `kill -USR1 <pid>` prints every thread's Python stack to stderr and the server goes on:
    # the way to see where a stuck request or a slow shutdown waits, without a debugger.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    async with server:
        if await server.wait_loaded_or(stop) and not stop.is_set():
            reasons = server.unservable()
            if reasons is not None:
                _log_unservable(server.workspace, reasons)
                return 1
            names = server.dataplane.names
            log.info(
                "%s",
                ready_message(
                    server.config, server.rest_port, server.grpc_port, names.callable_names(), names.aliases
                ),
            )
        await stop.wait()
        log.info(
            "shutting down: no new requests, up to %g s for those in flight",
            server.config.shutdown_timeout_seconds,
        )
        started = loop.time()
    log.info("stopped after %.2f s of draining", loop.time() - started)
    return 0


def _log_unservable(workspace: Workspace, reasons: list[str]) -> None:
    source = workspace.config_path if workspace.config_path is not None else "--model_path"
    log.error("no entry of %s can be served, exiting (code 1); entry by entry:", source)
    for reason in reasons:
        log.error("  %s", reason)


def run_server(config: ServerConfig) -> int:
    """Run until SIGINT/SIGTERM. Returns the process exit code.

    1: an invalid workspace or metrics setting, or no entry that can serve (every entry
    rejected: refused before the ports open; every entry failed to load: after the load).
    """
    configure_logging(config.log_level, config.log_path)
    try:
        if config.model_path is not None and is_hugging_face_folder(config.model_path):
            config = dataclasses.replace(
                config, model_path=exported_graph(config.model_path, config.cache_dir)
            )
        if config.model_path is not None:
            check_model_path(config.model_path)
        workspace = workspace_from_config(config)
        enabled_families(config, workspace)
        read_alias_file(workspace.config_path)  # checked here too: a bad file exits 1, no traceback
    except ConfigError as exc:
        log.error("%s", exc)
        return 1
    if not workspace.models and not workspace.graphs:
        rejected = unservable_reasons(workspace, {})
        if rejected is not None:
            for warning in workspace.warnings:
                log.warning("%s", warning)
            _log_unservable(workspace, rejected)
            return 1
    if config.calculator_modules:
        from ovserve.graph import import_calculator_modules

        try:
            import_calculator_modules(config.calculator_modules)
        except ConfigError as exc:
            log.error("%s", exc)
            return 1
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    return asyncio.run(_serve_until_signalled(Server(config, workspace)))
