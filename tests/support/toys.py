"""Workspaces of tiny OpenVINO models built in code, for tests that need a real model fast.

Fast models (no export needed), `write_toy_workspace`:

* `relu` (versions 1 and 2, policy all): `x` FP32 `[-1, 4]` → `relu` = relu(x), `double` = 2x;
  version 2 adds 1 to both outputs, so a test can tell the versions apart.
* `types`: one input per datatype with a typed `contents` field, each echoed (`+ 0`, or
  `not not` for BOOL) to `<name>_out`.
* `broken`: a version directory without a readable model (UNAVAILABLE).

A deliberately slow model, `write_slow_workspace`, so that requests are really in flight:

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

# Input name → (element type, KServe datatype); FP16 is left out: it has no typed field.
TYPE_INPUTS: dict[str, tuple[ov.Type, str]] = {
    "b": (ov.Type.boolean, "BOOL"),
    "i8": (ov.Type.i8, "INT8"),
    "i32": (ov.Type.i32, "INT32"),
    "i64": (ov.Type.i64, "INT64"),
    "u8": (ov.Type.u8, "UINT8"),
    "u32": (ov.Type.u32, "UINT32"),
    "u64": (ov.Type.u64, "UINT64"),
    "f32": (ov.Type.f32, "FP32"),
    "f64": (ov.Type.f64, "FP64"),
}


def _named(node: ov.Node, name: str) -> ov.Output:
    output = node.output(0)
    output.get_tensor().set_names({name})
    return output


def _relu_model(path: Path, offset: float) -> None:
    path.mkdir(parents=True, exist_ok=True)
    x = ops.parameter([-1, 4], ov.Type.f32, name="x")
    shift = ops.constant(np.float32(offset))
    relu = _named(ops.add(ops.relu(x), shift), "relu")
    double = _named(ops.add(ops.multiply(x, ops.constant(np.float32(2))), shift), "double")
    ov.save_model(ov.Model([relu, double], [x], "relu"), path / "model.xml")


def _types_model(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    params, outputs = [], []
    for name, (element, _) in TYPE_INPUTS.items():
        param = ops.parameter([-1], element, name=name)
        params.append(param)
        if element == ov.Type.boolean:
            echoed = ops.logical_not(ops.logical_not(param))
        else:
            echoed = ops.add(param, ops.constant(np.zeros((), dtype=element.to_dtype())))
        outputs.append(_named(echoed, f"{name}_out"))
    ov.save_model(ov.Model(outputs, params, "types"), path / "model.xml")


def write_toy_workspace(root: Path) -> Path:
    """Write the toy models and their `config.json` under `root`; return the config path."""
    _relu_model(root / "relu" / "1", 0.0)
    _relu_model(root / "relu" / "2", 1.0)
    _types_model(root / "types" / "1")
    (root / "broken" / "1").mkdir(parents=True)
    (root / "broken" / "1" / "model.xml").write_text("<not a model")
    config = {
        "model_config_list": [
            {"config": {"name": "relu", "base_path": "relu", "model_version_policy": {"all": {}}}},
            {"config": {"name": "types", "base_path": "types"}},
            {"config": {"name": "broken", "base_path": "broken"}},
        ]
    }
    path = root / "config.json"
    path.write_text(json.dumps(config))
    return path


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
