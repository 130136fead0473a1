"""`examples/langchain_retrieval`: LangChain OpenAIEmbeddings + InMemoryVectorStore on a real server.

The example runs with every proxy pointed at a dead port and an empty tiktoken cache, so it
passes only if nothing (tiktoken's encoding file, a Hugging Face tokenizer) is downloaded.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.running import running_server
from tests.support.models import REPO_ROOT, exported_workspace

SCRIPT = REPO_ROOT / "examples" / "langchain_retrieval" / "retrieve.py"

# query -> the document it must rank first (examples/langchain_retrieval/docs)
EXPECTED_FIRST = {
    "How often do I need to feed the yeast culture I bake with?": "sourdough-starter.txt",
    "my bike tyre keeps going flat": "flat-tyre.txt",
    "how do I take back a commit I just made": "git-undo.txt",
    "my fern's leaves are turning yellow and the soil is soggy": "houseplant-watering.txt",
    "keep every machine on the same library versions": "python-venv.txt",
}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def offline_env(tiktoken_cache: Path) -> dict[str, str]:
    """Proxies at a dead port (loopback exempt), an empty tiktoken cache, no LangSmith tracing."""
    dead = f"http://127.0.0.1:{closed_port()}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().endswith("_PROXY") and not k.startswith(("LANGSMITH_", "LANGCHAIN_"))
    }
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, ALL_PROXY=dead, NO_PROXY="127.0.0.1,localhost")
    env.update(TIKTOKEN_CACHE_DIR=str(tiktoken_cache), HF_HUB_OFFLINE="1")
    return env


def run_example(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=offline_env(cache),
    )
    assert not any(cache.iterdir()), "tiktoken downloaded an encoding"
    return result


def first_hits(stdout: str) -> dict[str, str]:
    """query -> source of its rank-1 hit, from the example's output."""
    found = re.findall(r"^query: (.*)\n  1\. [-\d.]+  (\S+)", stdout, flags=re.MULTILINE)
    return dict(found)


@pytest.mark.slow
async def test_ranks_the_expected_document_first_without_downloading_anything(tmp_path: Path) -> None:
    long_docs = tmp_path / "long"
    long_docs.mkdir()
    (long_docs / "long.txt").write_text("A long document\n" + "word " * 400, encoding="utf-8")

    async with running_server(exported_workspace()) as server:
        url = f"http://127.0.0.1:{server.rest_port}/v3"
        default = await asyncio.to_thread(run_example, tmp_path, "--url", url)
        queries = await asyncio.to_thread(run_example, tmp_path, "--url", url, "--k", "2", *EXPECTED_FIRST)
        too_long = await asyncio.to_thread(run_example, tmp_path, "--url", url, "--docs", str(long_docs))

    assert default.returncode == 0, default.stderr
    assert default.stderr == ""
    assert default.stdout.startswith("indexed 8 documents from ")
    assert first_hits(default.stdout) == {next(iter(EXPECTED_FIRST)): "sourdough-starter.txt"}
    assert len(re.findall(r"^  \d\. ", default.stdout, flags=re.MULTILINE)) == 3  # --k defaults to 3

    assert queries.returncode == 0, queries.stderr
    assert first_hits(queries.stdout) == EXPECTED_FIRST
    assert len(re.findall(r"^  \d\. ", queries.stdout, flags=re.MULTILINE)) == 2 * len(EXPECTED_FIRST)

    # Without LangChain's length check nothing splits long texts: the server's 400 is reported.
    assert too_long.returncode == 1
    assert "Traceback" not in too_long.stderr
    assert "answered 400" in too_long.stderr
    assert "longer than allowed 256" in too_long.stderr


def test_an_unreachable_server_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v3"
    result = run_example(tmp_path, "--url", url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: cannot reach {url}: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
