"""A complete ovserve server inside another framework's process, reached over a Unix socket.

This part imports no Ray: an `EmbeddedServer` runs the real `ovserve.server.Server` (repository,
data plane, file watcher, admission guard, drain on stop) on an event loop of its own, in a
daemon thread, with the real REST application (`ovserve.frontends.rest.make_app`) listening
on a Unix socket instead of a TCP port. A `Forwarder`, living on the host framework's event
loop, replays an HTTP request on that socket and returns the answer byte for byte, so every
route, header and error body is exactly what a directly started ovserve sends.

Why a socket rather than calling the aiohttp application in-process: aiohttp builds a request
only from a live transport, and a Unix socket adds about a tenth of a millisecond, next to
milliseconds of inference. No TCP port is opened, so nothing but the host process can reach it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from ovserve.config import ServerConfig
from ovserve.frontends.rest import make_app
from ovserve.graph import import_calculator_modules
from ovserve.runtime import shared_core
from ovserve.server import Server

log = logging.getLogger(__name__)

# RFC 9110 §7.6.1 hop-by-hop headers: never forwarded, in either direction.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# The request body is sent whole, so its length is recomputed.
_NOT_FORWARDED_REQUEST_HEADERS = HOP_BY_HOP | {"content-length"}


def threaded_plugin_properties(threads: int, *, pin_threads: bool = False) -> dict[str, object]:
    """CPU plugin defaults for a process that owns `threads` cores of a shared machine.

    `INFERENCE_NUM_THREADS` stops OpenVINO from starting one thread per core of the machine
    in every replica; pinning is off by default because the CPU plugin picks cores per process
    and two replicas on one host would otherwise pin their threads to the same cores. A
    workspace's own `plugin_config` (e.g. `NUM_STREAMS`) still applies on top of these.
    """
    if threads < 1:
        raise ValueError(f"inference threads must be >= 1, got {threads}")
    return {"INFERENCE_NUM_THREADS": threads, "ENABLE_CPU_PINNING": pin_threads}


@dataclasses.dataclass(frozen=True)
class Forwarded:
    """One answer of the embedded REST application, as it was on the wire."""

    status: int
    headers: list[tuple[bytes, bytes]]
    """Raw header pairs in order, without hop-by-hop headers; `Content-Length` is kept when
    the application sent one (for HEAD it is the length of the GET answer, not of `body`)."""
    body: bytes


class EmbeddedServer:
    """ovserve's `Server` on its own event loop thread, its REST application on a Unix socket.

    `start()` blocks until the workspace has loaded (or failed to: start-up errors are raised
    there, as `ovserve` would exit on them). `stop()` drains as SIGTERM does: the socket closes,
    requests in flight get `shutdown_timeout_seconds`, then models are released.

    Args:
        config: the server settings; ports, TLS and the gRPC front end are ignored (the host
            framework owns the network).
        socket_path: where to listen; its directory must exist.
        plugin_properties: CPU plugin properties set on the process's OpenVINO core before
            anything is compiled (see `threaded_plugin_properties`).
    """

    def __init__(
        self,
        config: ServerConfig,
        socket_path: Path,
        *,
        plugin_properties: dict[str, object] | None = None,
    ) -> None:
        self.config = dataclasses.replace(config, rest_port=None, grpc_port=None, tls=None)
        self.socket_path = socket_path
        self._plugin_properties = dict(plugin_properties or {})
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name="ovserve-embedded", daemon=True)

    @property
    def alive(self) -> bool:
        """True from a successful `start()` until `stop()` (or until the loop thread died)."""
        return self._thread.is_alive() and self._started.done() and self._started.exception() is None

    def start(self, timeout: float | None = None) -> None:
        """Start the loop thread and wait until the socket listens and the workspace has loaded."""
        if self._plugin_properties:
            shared_core(self.config.cache_dir).set_property("CPU", self._plugin_properties)
        if self.config.calculator_modules:
            import_calculator_modules(self.config.calculator_modules)
        self._thread.start()
        self._started.result(timeout)

    def stop(self, timeout: float | None = None) -> None:
        """Drain and release everything; safe to call more than once or after a failed start."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stopping.set)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(), or logged if it failed later
            if not self._started.done():
                self._started.set_exception(exc)
            else:
                log.exception("embedded ovserve stopped with an error")

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        config = self.config
        server = Server(config)
        runner = web.AppRunner(
            make_app(server.dataplane, config, server.metrics),
            access_log=None,
            shutdown_timeout=config.shutdown_timeout_seconds,
        )
        try:
            await runner.setup()
            # Loading starts in the background; the socket is open before it ends, as in ovserve.
            await server.start()
            await web.UnixSite(runner, str(self.socket_path)).start()
            log.info("embedded ovserve listening on %s", self.socket_path)
            await server.wait_ready()
            self._started.set_result(None)
            await self._stopping.wait()
            log.info("embedded ovserve draining")
        finally:
            # The socket first, so that nothing new arrives while the models are released.
            await runner.cleanup()
            await server.stop()


class Forwarder:
    """Replays HTTP requests on an `EmbeddedServer`'s socket; use it from one event loop only."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self._session: aiohttp.ClientSession | None = None

    async def forward(
        self, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> Forwarded:
        """Send `method target` (an already percent-encoded path and query) and read the answer.

        Headers go through unchanged but for the hop-by-hop ones; no header is added (no
        default `User-Agent`, `Accept-Encoding` or `Content-Type`), and a compressed answer
        stays compressed, so the application sees and sends what a direct client would.
        """
        session = self._session
        if session is None or session.closed:
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.UnixConnector(path=str(self.socket_path), limit=0),
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
            )
        forwarded = CIMultiDict(
            (name, value) for name, value in headers if name.lower() not in _NOT_FORWARDED_REQUEST_HEADERS
        )
        url = URL("http://ovserve" + target, encoded=True)
        async with session.request(
            method, url, headers=forwarded, data=body or None, allow_redirects=False
        ) as response:
            content = await response.read()
            kept = [(k, v) for k, v in response.raw_headers if k.decode("latin-1").lower() not in HOP_BY_HOP]
            return Forwarded(status=response.status, headers=kept, body=content)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
