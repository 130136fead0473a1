"""`--embedding_cache_mib` on a real server: repeated texts are cache hits (counted in
`/metrics`), and a model version swap never leaves an older version's vector in the answers."""

from __future__ import annotations

import shutil
from pathlib import Path

import aiohttp
import numpy as np
import numpy.typing as npt
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ovserve.server import Server
from tests.running import running_server
from tests.support.models import DEFAULT_GRAPH_NAME, copy_workspace, exported_workspace

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

EMBEDDINGS_DIR = Path(DEFAULT_GRAPH_NAME) / "embeddings"


async def embed(session: aiohttp.ClientSession, server: Server, text: str) -> npt.NDArray[np.float64]:
    url = f"http://127.0.0.1:{server.rest_port}/v3/embeddings"
    async with session.post(url, json={"model": DEFAULT_GRAPH_NAME, "input": text}) as response:
        assert response.status == 200, await response.text()
        return np.array((await response.json())["data"][0]["embedding"])


async def lookups(session: aiohttp.ClientSession, server: Server) -> dict[str, float]:
    async with session.get(f"http://127.0.0.1:{server.rest_port}/metrics") as response:
        text = await response.text()
    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ovserve_embedding_cache_lookups_total"
        and sample.labels["name"] == DEFAULT_GRAPH_NAME
    }


async def test_hits_are_counted_and_a_version_swap_clears_the_cache(tmp_path: Path) -> None:
    config = copy_workspace(exported_workspace("fp32"), tmp_path / "ws")
    serving = running_server(
        config, embedding_cache_mib=4, metrics_enable=True, file_system_poll_wait_seconds=0
    )
    async with serving as server, aiohttp.ClientSession() as session:
        first = await embed(session, server, "hello cache")
        assert np.array_equal(await embed(session, server, "hello cache"), first)
        # Misses: the graph's warm-up text at load, then the first "hello cache".
        assert await lookups(session, server) == {"hit": 1, "miss": 2}
        # Version 2 of the embeddings model: the int8 export's weights (run at f32 as well).
        int8 = exported_workspace("int8").parent / EMBEDDINGS_DIR / "1"
        shutil.copytree(int8, config.parent / EMBEDDINGS_DIR / "2")
        async with session.post(f"http://127.0.0.1:{server.rest_port}/v1/config/reload") as reload:
            assert reload.status == 201, await reload.text()
        swapped = await embed(session, server, "hello cache")
        assert np.abs(swapped - first).max() > 1e-4  # the new version's vector, not the cached one
        assert await lookups(session, server) == {"hit": 0, "miss": 2}  # the reloaded graph's own cache
