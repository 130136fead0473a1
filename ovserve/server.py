"""The server process: REST and gRPC front ends over one repository, in one event loop.

Start-up order follows OVMS: validate the workspace (an invalid file stops start-up), open the
ports, then load models and graphs on a worker thread while `/v2/health/ready` answers 503
and `/v1/config` shows LOADING. Shutdown stops accepting, lets in-flight requests finish
within a grace period, then releases the models.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from types import TracebackType

import grpc
from aiohttp import web

from ovserve.config import ServerConfig
from ovserve.dataplane import DataPlane
from ovserve.errors import ConfigError
from ovserve.frontends.grpc import SERVER_OPTIONS, add_services
from ovserve.frontends.rest import make_app
from ovserve.graph.executor import NodeExecutor
from ovserve.graph_loading import GraphLoader
from ovserve.logging_setup import configure_logging
from ovserve.repository import Repository
from ovserve.runtime import shared_core
from ovserve.workspace import Workspace, load_workspace, single_model_workspace

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0


def workspace_from_config(config: ServerConfig) -> Workspace:
    """The workspace the flags name. Raises `ConfigError` when its files are invalid."""
    if config.config_path is not None:
        return load_workspace(config.config_path)
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
    """

    def __init__(self, config: ServerConfig, workspace: Workspace | None = None) -> None:
        self.config = config
        self.workspace = workspace if workspace is not None else workspace_from_config(config)
        self._executor = NodeExecutor(config.graph_threads or None)
        self.repository = Repository(
            self.workspace, shared_core(config.cache_dir), GraphLoader(self._executor)
        )
        # One data plane under both front ends: they answer the same request identically.
        self.dataplane = DataPlane(self.repository)
        self.rest_port: int | None = None
        self.grpc_port: int | None = None
        self._runner: web.AppRunner | None = None
        self._grpc: grpc.aio.Server | None = None
        self._loading: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the ports, then start loading the workspace in the background."""
        if self.config.rest_port is not None:
            self._runner = web.AppRunner(make_app(self.repository, self.dataplane), access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.config.rest_bind_address, self.config.rest_port)
            await site.start()
            self.rest_port = _bound_port(site)
            log.info("REST server listening on %s:%d", self.config.rest_bind_address, self.rest_port)
        if self.config.grpc_port is not None:
            # gRPC's default 4 MiB receive limit is too small for large embedding batches.
            self._grpc = grpc.aio.server(options=SERVER_OPTIONS)
            add_services(self._grpc, self.dataplane)
            address = f"{self.config.grpc_bind_address}:{self.config.grpc_port}"
            self.grpc_port = self._grpc.add_insecure_port(address)
            await self._grpc.start()
            log.info("gRPC server listening on %s:%d", self.config.grpc_bind_address, self.grpc_port)
        self._loading = asyncio.create_task(asyncio.to_thread(self.repository.load))

    async def wait_ready(self) -> None:
        """Wait until every servable has been loaded or has failed."""
        if self._loading is not None:
            await self._loading

    async def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Stop accepting, finish in-flight requests within `grace` seconds, release models."""
        if self._runner is not None:
            await self._runner.shutdown()
        if self._grpc is not None:
            await self._grpc.stop(grace)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._loading is not None:
            with contextlib.suppress(Exception):
                await self._loading
        self.repository.close()
        await asyncio.to_thread(self._executor.shutdown)

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def _bound_port(site: web.TCPSite) -> int:
    server = site._server  # aiohttp keeps the asyncio.Server here; it is the only way to read port 0
    assert isinstance(server, asyncio.Server)
    port: int = server.sockets[0].getsockname()[1]
    return port


async def _serve_until_signalled(server: Server) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
        log.info("shutting down")


def run_server(config: ServerConfig) -> int:
    """Run until SIGINT/SIGTERM. Returns the process exit code (1: invalid workspace)."""
    configure_logging(config.log_level, config.log_path)
    try:
        workspace = workspace_from_config(config)
    except ConfigError as exc:
        log.error("%s", exc)
        return 1
    if config.calculator_modules:
        from ovserve.graph import load_calculator_modules

        try:
            load_calculator_modules(config.calculator_modules)
        except ConfigError as exc:
            log.error("%s", exc)
            return 1
    asyncio.run(_serve_until_signalled(Server(config, workspace)))
    return 0
