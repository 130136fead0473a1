"""One real server per test module (module-scoped, on the module's event loop)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from ovserve.server import Server
from tests.running import running_server
from tests.support.models import exported_workspace


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server() -> AsyncIterator[Server]:
    """The seed workspace (versioned int8 export), loaded."""
    async with running_server(exported_workspace()) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def base_url(server: Server) -> str:
    return f"http://127.0.0.1:{server.rest_port}"
