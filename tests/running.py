"""Start the real server in-process on free ports, for end-to-end tests with real clients."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from ovserve.config import ServerConfig
from ovserve.server import Server


@contextlib.asynccontextmanager
async def running_server(
    config_path: Path, *, wait: bool = True, **settings: object
) -> AsyncIterator[Server]:
    """A started `Server` with REST and gRPC on ports chosen by the OS; stopped on exit.

    With `wait`, the workspace has finished loading when the block starts.
    """
    config = ServerConfig(rest_port=0, grpc_port=0, config_path=config_path, **settings)  # type: ignore[arg-type]
    async with Server(config) as server:
        if wait:
            await server.wait_ready()
        yield server
