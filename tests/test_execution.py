"""`ovserve.runtime.execution` on tiny in-process models: what runs is read back, not assumed.

Two tests make sense on one CPU kind only and say so when skipped; each kind runs one of them,
so none is skipped on both.
"""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

from ovserve.runtime.execution import (
    EXACT_BOUND,
    REDUCED_BOUND,
    Execution,
    cpu_flags,
    cpu_has_bf16,
    default_cpu_precision,
    describe_cpu,
    has_compressed_weights,
)

CORE = ov.Core()
NO_BF16 = "this CPU has no bf16 (OpenVINO's CPU capabilities lack BF16): it runs f32 whatever the hint"
HAS_BF16 = "this CPU runs bf16: a bf16 hint is honoured here, so falling back to f32 cannot be seen"


def float_model() -> ov.Model:
    x = ops.parameter([-1, 64], ov.Type.f32, name="x")
    weights = ops.constant(np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32))
    return ov.Model([ops.matmul(x, weights, False, False)], [x], "float")


def int8_model() -> ov.Model:
    """The weight-compression pattern NNCF writes: u8 weights, zero point and scale, decompressed."""
    x = ops.parameter([-1, 64], ov.Type.f32, name="x")
    rng = np.random.default_rng(0)
    weights = ops.constant(rng.integers(0, 255, (64, 64)).astype(np.uint8))
    zero_point = ops.constant(np.full((64, 1), 128, dtype=np.uint8))
    shifted = ops.subtract(ops.convert(weights, ov.Type.f32), ops.convert(zero_point, ov.Type.f32))
    decompressed = ops.multiply(shifted, ops.constant(np.full((64, 1), 0.01, dtype=np.float32)))
    return ov.Model([ops.matmul(x, decompressed, False, True)], [x], "int8")


def execution(model: ov.Model, **properties: str) -> Execution:
    return Execution.of(CORE.compile_model(model, "CPU", properties), model)


def test_compressed_weights_are_found_by_their_constant_types() -> None:
    assert has_compressed_weights(int8_model())
    assert not has_compressed_weights(float_model())


def test_f32_float_weights_are_exact_on_every_cpu() -> None:
    ran = execution(float_model(), INFERENCE_PRECISION_HINT="f32")
    assert ran == Execution(precision="f32", dynamic_quantization_group_size=0, compressed_weights=False)
    assert ran.exact
    assert ran.batch_bound == EXACT_BOUND


def test_f32_without_dynamic_quantization_makes_compressed_weights_exact() -> None:
    ran = execution(int8_model(), INFERENCE_PRECISION_HINT="f32", DYNAMIC_QUANTIZATION_GROUP_SIZE="0")
    assert ran == Execution(precision="f32", dynamic_quantization_group_size=0, compressed_weights=True)
    assert ran.exact


def test_dynamic_quantization_gets_the_reduced_bound_even_at_f32() -> None:
    quantized = Execution(precision="f32", dynamic_quantization_group_size=32, compressed_weights=True)
    assert quantized.quantizes_activations
    assert not quantized.exact
    assert quantized.batch_bound == REDUCED_BOUND
    assert "dynamic quantization (group 32)" in quantized.describe()
    # Read back, the promise follows whatever group size this CPU's plugin reports for it.
    ran = execution(int8_model(), INFERENCE_PRECISION_HINT="f32", DYNAMIC_QUANTIZATION_GROUP_SIZE="32")
    assert ran.exact == (ran.dynamic_quantization_group_size == 0)


def test_the_plugin_default_follows_the_cpu() -> None:
    default = default_cpu_precision(CORE)
    assert execution(float_model()).precision == default
    if {"avx512_bf16", "amx_bf16"} & set(cpu_flags()):
        assert default == "bf16"  # the AVX-512 bf16 kind
    if not cpu_has_bf16(CORE):
        assert default == "f32"  # the AVX2 kind


def test_a_bf16_hint_runs_bf16_where_the_cpu_has_it() -> None:
    if not cpu_has_bf16(CORE):
        pytest.skip(NO_BF16)
    ran = execution(float_model(), INFERENCE_PRECISION_HINT="bf16")
    assert ran.precision == "bf16"
    assert ran.batch_bound == REDUCED_BOUND


def test_a_bf16_hint_falls_back_to_f32_where_the_cpu_lacks_it() -> None:
    if cpu_has_bf16(CORE):
        pytest.skip(HAS_BF16)
    ran = execution(float_model(), INFERENCE_PRECISION_HINT="bf16")
    assert ran.precision == "f32"


def test_the_cpu_line_names_the_flags_and_the_default_precision() -> None:
    line = describe_cpu(CORE)
    assert f"INFERENCE_PRECISION_HINT {default_cpu_precision(CORE)}" in line
    assert "DYNAMIC_QUANTIZATION_GROUP_SIZE" in line
    for flag in cpu_flags():
        assert flag in line
