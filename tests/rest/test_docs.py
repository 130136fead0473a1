"""`/docs`: Swagger UI from the installed package renders `/openapi.json`; headless Chromium
(Debian's `chromium`) loads it, the screenshot is kept, and the rendered page lists
`/v3/embeddings`. The browser part skips, saying why, where chromium is not installed."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path

import aiohttp
import pytest

from ovserve.server import Server
from tests.rest.support import call
from tests.support.models import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

SCREENSHOT = REPO_ROOT / "build" / "docs-page.png"


async def test_docs_page_and_its_files_are_served_locally(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    status, _, response = await call(session, "GET", f"{base_url}/docs")
    assert (status, response.content_type) == (200, "text/html")
    for name in ("swagger-ui.css", "swagger-ui-bundle.js"):
        async with session.get(f"{base_url}/docs/{name}") as asset:
            assert asset.status == 200
            assert len(await asset.read()) > 10_000
    status, body, _ = await call(session, "GET", f"{base_url}/docs/index.html")
    assert (status, body) == (404, {"error": "Requested REST resource not found"})


def browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def render(executable: str, url: str, profile: str) -> tuple[str, bytes]:
    """The DOM after scripts ran, and a PNG screenshot, from two headless runs."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
    ]
    dom = subprocess.run(
        [executable, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    shot = Path(profile) / "page.png"
    subprocess.run(
        [executable, *flags, f"--screenshot={shot}", "--window-size=1280,2000", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return dom, shot.read_bytes()


async def test_chromium_renders_the_embeddings_route(server: Server) -> None:
    executable = browser()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    url = f"http://127.0.0.1:{server.rest_port}/docs"
    with tempfile.TemporaryDirectory() as profile:
        # The browser blocks: off the loop that serves the in-process server.
        dom, png = await asyncio.to_thread(render, executable, url, profile)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(png)
    assert png.startswith(b"\x89PNG")
    assert "swagger-ui" in dom
    assert "/v3/embeddings" in dom  # Swagger UI wrote the operation list from /openapi.json
