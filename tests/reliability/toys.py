"""A deliberately slow toy model, so that requests are really in flight during a test.

`slow` (FP32 `x[-1, 1024]` → `y`): `y = x` computed through `ROUNDS` matrix products with
the identity (OpenVINO does not fold them away), ~20 ms per one-row request on 2 cores. The
answer is checkable: `y` equals `x` (exactly, since products with 1.0 and 0.0 are exact).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops

WIDTH = 1024
ROUNDS = 48


def write_slow_workspace(root: Path, rounds: int = ROUNDS) -> Path:
    """Write model `slow` and its `config.json` under `root`; return the config path."""
    version = root / "slow" / "1"
    version.mkdir(parents=True, exist_ok=True)
    x = ops.parameter([-1, WIDTH], ov.Type.f32, name="x")
    eye = ops.constant(np.eye(WIDTH, dtype=np.float32))
    y: ov.Output = x.output(0)
    for _ in range(rounds):
        y = ops.matmul(y, eye, False, False).output(0)
    y.get_tensor().set_names({"y"})
    ov.save_model(ov.Model([y], [x], "slow"), version / "model.xml")
    config = {"model_config_list": [{"config": {"name": "slow", "base_path": "slow"}}]}
    path = root / "config.json"
    path.write_text(json.dumps(config))
    return path
