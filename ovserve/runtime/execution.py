"""What OpenVINO really runs for a compiled model, and what that promises about its vectors.

The CPU plugin chooses the arithmetic per machine, so the IR files alone do not say it:

* On CPUs with AVX-512 bf16 or AMX, `INFERENCE_PRECISION_HINT` defaults to bf16 even for an
  fp32 IR; elsewhere it defaults to f32.
* A model with compressed (int8/int4) weights quantizes its activations to int8 on the fly in
  groups of `DYNAMIC_QUANTIZATION_GROUP_SIZE` elements (0 turns that off). The property is what
  can be read back; whether the plugin's kernels apply it is the CPU's business (an AVX2 CPU
  gave the numbers of it being off), so a non-zero group is taken at its word: the promise
  below stays true, if loose, where it is not applied.

`Execution.of()` reads both back from the compiled model. `Execution.batch_bound` is ovserve's
promise for batch invariance (a text's vector in a merged, padded batch against the same text
alone), which follows from what runs:

* f32 arithmetic and no activation quantization ("exact"): fp32 rounding only, at most 1e-6
  per component. Measured with `benchmarks/batch_invariance.py` on all-MiniLM-L6-v2: up to
  1.9e-7 (fp32 and int8 weights, AVX-512 bf16 CPU), 1.6e-7 (fp32) and 3.0e-7 (int8) on an
  AVX2 CPU.
* anything else (bf16 or f16 arithmetic, or int8 activations): at most 5e-3 per component and
  cosine at least 0.9998. Measured there: fp32 weights at bf16 up to 5.7e-4, int8 weights with
  dynamic quantization up to 2.2e-3 (cosine 0.99992); bf16 rounding and the per-group int8
  scales depend on the kernels the plugin picks for a shape.

A workspace asks for the exact kind with `"INFERENCE_PRECISION_HINT": "f32"` and, for
compressed weights, `"DYNAMIC_QUANTIZATION_GROUP_SIZE": 0` in `plugin_config`
(`ovserve export --execution_precision f32` writes both).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import openvino

COMPRESSED_WEIGHT_TYPES: Final = frozenset({"u8", "i8", "u4", "i4", "nf4", "f4e2m1", "f8e4m3", "f8e5m2"})
"""Element types of weight constants that mark a weight-compressed model (NNCF's formats)."""
CPU_FLAGS: Final = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
"""The instruction-set flags that change the CPU plugin's choices."""


@dataclass(frozen=True)
class BatchBound:
    """How far a vector may move when its batch-mates change: per component and by cosine."""

    max_abs: float
    min_cosine: float


EXACT_BOUND: Final = BatchBound(max_abs=1e-6, min_cosine=0.999999)
REDUCED_BOUND: Final = BatchBound(max_abs=5e-3, min_cosine=0.9998)


@dataclass(frozen=True)
class Execution:
    """The arithmetic one compiled model runs."""

    precision: str
    """`f32`, `bf16` or `f16`: the INFERENCE_PRECISION_HINT read back."""
    dynamic_quantization_group_size: int
    """The DYNAMIC_QUANTIZATION_GROUP_SIZE in effect: read back for compressed weights, 0 when
    activations stay float (the property is moot for float weights, which it never touches)."""
    compressed_weights: bool
    """The model holds int8/int4 weight constants."""

    @classmethod
    def of(cls, compiled: openvino.CompiledModel, model: openvino.Model) -> Execution:
        """Read what `compiled` (compiled from `model`) runs."""
        compressed = has_compressed_weights(model)
        group = int(_property(compiled, "DYNAMIC_QUANTIZATION_GROUP_SIZE", "0")) if compressed else 0
        return cls(
            precision=_property(compiled, "INFERENCE_PRECISION_HINT", "f32"),
            dynamic_quantization_group_size=group,
            compressed_weights=compressed,
        )

    @property
    def quantizes_activations(self) -> bool:
        return self.dynamic_quantization_group_size > 0

    @property
    def exact(self) -> bool:
        """f32 arithmetic throughout: vectors differ between batch shapes by fp32 rounding only."""
        return self.precision == "f32" and not self.quantizes_activations

    @property
    def batch_bound(self) -> BatchBound:
        """ovserve's promise for batched against alone (see the module docstring)."""
        return EXACT_BOUND if self.exact else REDUCED_BOUND

    def describe(self) -> str:
        """One line for logs and test reports, e.g. `bf16, dynamic quantization (group 32): ...`."""
        activations = (
            f"dynamic quantization (group {self.dynamic_quantization_group_size})"
            if self.quantizes_activations
            else "float activations"
        )
        kind = "exact" if self.exact else "reduced"
        return f"{self.precision}, {activations}: {kind} (batch-invariant to {self.batch_bound.max_abs:g})"


def has_compressed_weights(model: openvino.Model) -> bool:
    """Whether any constant of `model` has a compressed weight type."""
    for op in model.get_ordered_ops():
        if (
            op.get_type_name() == "Constant"
            and op.get_element_type().get_type_name() in COMPRESSED_WEIGHT_TYPES
        ):
            return True
    return False


def default_cpu_precision(core: openvino.Core) -> str:
    """The CPU plugin's own INFERENCE_PRECISION_HINT on this machine (before any plugin_config)."""
    return _text(core.get_property("CPU", "INFERENCE_PRECISION_HINT"))


def cpu_has_bf16(core: openvino.Core) -> bool:
    """Whether the CPU plugin can run bf16 here (its OPTIMIZATION_CAPABILITIES list BF16)."""
    return "BF16" in [_text(c) for c in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")]


@functools.cache
def cpu_flags() -> tuple[str, ...]:
    """The flags of `CPU_FLAGS` this machine's CPU has (from /proc/cpuinfo; empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    for line in text.splitlines():
        if line.startswith("flags"):
            have = set(line.split(":", 1)[1].split())
            return tuple(flag for flag in CPU_FLAGS if flag in have)
    return ()


def cpu_model_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def describe_cpu(core: openvino.Core) -> str:
    """CPU model, cores, the flags that matter and the plugin's defaults, in one line."""
    flags = " ".join(cpu_flags()) or "none of avx2/avx512/amx"
    group = _text(core.get_property("CPU", "DYNAMIC_QUANTIZATION_GROUP_SIZE"))
    return (
        f"{cpu_model_name()}, {os.cpu_count()} logical cores, flags: {flags}; OpenVINO CPU defaults: "
        f"INFERENCE_PRECISION_HINT {default_cpu_precision(core)}, DYNAMIC_QUANTIZATION_GROUP_SIZE {group}"
    )


def _property(compiled: openvino.CompiledModel, name: str, fallback: str) -> str:
    try:
        return _text(compiled.get_property(name))
    except RuntimeError:  # a device or plugin version without the property
        return fallback


def _text(value: object) -> str:
    """An OpenVINO property value as text: `<Type: 'bfloat16'>` → `bf16`, 32 → `32`."""
    get_type_name = getattr(value, "get_type_name", None)
    if callable(get_type_name):
        return str(get_type_name())
    return str(getattr(value, "name", value))
