"""A deliberately slow toy model, so that requests are really in flight during a test.

`slow` (FP32 `x[-1, 1024]` → `y`): `y = x` computed through `ROUNDS` matrix products with
the identity (OpenVINO does not fold them away), ~3 ms per one-row request alone on 2 AVX2
cores, far more when requests queue. The answer is checkable: `y` equals `x` exactly, since
products with 1.0 and 0.0 are exact; the workspace pins f32 execution, as bf16 on AVX-512
machines would round `x`. `calibrated_rounds` sizes the work in seconds instead, for tests
whose premise needs requests to stay in flight for a while whatever the CPU.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops

WIDTH = 1024
ROUNDS = 48
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def slow_model(rounds: int = ROUNDS) -> ov.Model:
    """`y = x` through `rounds` products with the identity."""
    x = ops.parameter([-1, WIDTH], ov.Type.f32, name="x")
    eye = ops.constant(np.eye(WIDTH, dtype=np.float32))
    y: ov.Output = x.output(0)
    for _ in range(rounds):
        y = ops.matmul(y, eye, False, False).output(0)
    y.get_tensor().set_names({"y"})
    return ov.Model([y], [x], "slow")


def write_slow_workspace(root: Path, rounds: int = ROUNDS) -> Path:
    """Write model `slow` and its `config.json` under `root`; return the config path."""
    version = root / "slow" / "1"
    version.mkdir(parents=True, exist_ok=True)
    ov.save_model(slow_model(rounds), version / "model.xml")
    config = {"model_config_list": [{"config": {"name": "slow", "base_path": "slow", "plugin_config": F32}}]}
    path = root / "config.json"
    path.write_text(json.dumps(config))
    return path


def calibrated_rounds(seconds: float) -> int:
    """Rounds that make one one-row request take about `seconds` on this machine (>= ROUNDS).

    Times the `ROUNDS` model in process (median of 7 runs after a warm-up) and scales: the
    work is linear in the rounds.
    """
    compiled = ov.Core().compile_model(slow_model(), "CPU", F32)
    request = compiled.create_infer_request()
    x = np.ones((1, WIDTH), dtype=np.float32)
    request.infer({0: x})
    times = []
    for _ in range(7):
        started = time.perf_counter()
        request.infer({0: x})
        times.append(time.perf_counter() - started)
    return max(ROUNDS, round(ROUNDS * seconds / statistics.median(times)))
