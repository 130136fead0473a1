"""benchmarks/baseline_server.py starts on the cached int8 export and answers requests."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.models import REPO_ROOT, exported_workspace, graph_dir

SCRIPT = REPO_ROOT / "benchmarks" / "baseline_server.py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _post(url: str, body: dict[str, object]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"baseline server did not become ready:\n{log.read_text()}")


@pytest.mark.slow
def test_baseline_server_answers_openai_embeddings(tmp_path: Path) -> None:
    port = _free_port()
    graph = graph_dir(exported_workspace())
    log = tmp_path / "baseline.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        command = [sys.executable, str(SCRIPT), "--graph_dir", str(graph), "--port", str(port)]
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        try:
            _wait_ready(process, f"{base}/v2/health/ready", log)
            body: dict[str, object] = {
                "model": "m",
                "input": ["hello world", "the of and"],
                "encoding_format": "float",
            }
            answer = _post(f"{base}/v3/embeddings", body)
            packed = _post(f"{base}/v3/embeddings", {**body, "encoding_format": "base64"})
        finally:
            process.terminate()
            process.wait(timeout=30)
    vectors = np.array([item["embedding"] for item in answer["data"]], dtype=np.float32)
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert answer["usage"]["prompt_tokens"] == 4 + 5  # [CLS] hello world [SEP], [CLS] the of and [SEP]
    decoded = np.frombuffer(base64.b64decode(packed["data"][1]["embedding"]), dtype=np.float32)
    np.testing.assert_allclose(decoded, vectors[1], rtol=1e-6)
