"""Tiny OpenVINO models built in-process, for tests that need a real but instant model."""

from __future__ import annotations

from pathlib import Path

import openvino as ov
import openvino.opset13 as ops


def write_relu_model(version_dir: Path, width: int = 4) -> Path:
    """Save `y = relu(x)` with `x: f32[?, width]` as `version_dir/model.xml` and return its path."""
    version_dir.mkdir(parents=True, exist_ok=True)
    x = ops.parameter([-1, width], ov.Type.f32, name="x")
    model = ov.Model([ops.relu(x)], [x], "relu")
    path = version_dir / "model.xml"
    ov.save_model(model, path)
    return path
