"""Real servers for the gRPC tests, one per test module (module-scoped, on the module's loop).

`toy_server` serves the instant toy models of `tests/support/toys.py`; `model_server` serves the
cached exported embeddings workspace (tests that use it are `slow`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.running import running_server
from tests.support.models import exported_workspace
from tests.support.toys import write_toy_workspace


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def toy_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    config = write_toy_workspace(Path(tmp_path_factory.mktemp("toys")))
    async with running_server(config) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def model_server() -> AsyncIterator[Server]:
    """The seed workspace (versioned int8 export), loaded."""
    async with running_server(exported_workspace()) as started:
        yield started


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def toy_stub(toy_server: Server) -> AsyncIterator[InferenceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{toy_server.grpc_port}") as channel:
        yield InferenceStub(channel)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def model_stub(model_server: Server) -> AsyncIterator[InferenceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{model_server.grpc_port}") as channel:
        yield InferenceStub(channel)
