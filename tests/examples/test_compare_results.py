"""`examples/compare_results` against a real server: fp32 is exact, every export passes OVMS's line."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.running import running_server
from tests.support.models import REPO_ROOT, exported_workspace
from tests.support.precision import served_execution

pytestmark = pytest.mark.slow

SCRIPT = REPO_ROOT / "examples" / "compare_results" / "compare_results.py"
TEXTS = ["hello world", "goodbye world", "Ein Beispielsatz mit Umlauten: äöü.", "数据库", ""]


def run_script(port: int) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(SCRIPT), "--service_url", f"http://127.0.0.1:{port}/v3/embeddings"]
    for text in TEXTS:
        args += ["--input", text]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)


async def scores_against(config: Path) -> list[float]:
    async with running_server(config) as server:
        assert server.rest_port is not None
        result = await asyncio.to_thread(run_script, server.rest_port)
    assert result.returncode in (0, 1), result.stderr
    scores = [float(s) for s in re.findall(r"difference score (\S+)", result.stdout)]
    assert len(scores) == len(TEXTS), result.stdout
    return scores


async def test_fp32_export_at_f32_precision_differs_below_1e_3() -> None:
    config = exported_workspace("fp32")
    assert served_execution(config).exact  # the export pins f32: what makes 1e-3 hold
    scores = await scores_against(config)
    assert max(scores) < 1e-3, scores


async def test_int8_export_passes_the_ovms_line() -> None:
    # Whatever the CPU runs: f32 with float activations on AVX2, bf16 with dynamic
    # quantization of activations on AVX-512 bf16. Plain INT8_ASYM missed the line there
    # (0.0724 for ""); the export keeps the attention value projections at fp32
    # (`ovserve.export.convert.INT8_KEPT_FP32`), which is what makes it hold on both.
    config = exported_workspace()
    execution = served_execution(config)
    assert execution.compressed_weights
    scores = await scores_against(config)
    assert max(scores) < 0.06, (scores, execution)
