"""A toy-model server with an API key and custom CORS values, one per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from ovserve.config import CorsSettings
from ovserve.server import Server
from tests.running import running_server
from tests.security.support import KEY
from tests.support.toys import write_toy_workspace


@pytest.fixture(scope="module")
def toy_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_workspace(Path(tmp_path_factory.mktemp("toys")))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def keyed_server(toy_config: Path) -> AsyncIterator[Server]:
    cors = CorsSettings(
        allowed_origins="https://app.example", allowed_methods="GET, POST", allow_credentials=True
    )
    async with running_server(toy_config, api_key=KEY, cors=cors) as started:
        yield started
