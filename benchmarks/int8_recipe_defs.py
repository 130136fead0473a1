"""The recipes of `int8_recipes.py`: how the fp32 IR gets compressed, and which MatMuls a recipe keeps.

`Recipe` maps onto the arguments of `nncf.compress_weights`; `static_recipes` is every recipe
that needs no measurement, `sensitive_recipes` those built from the per-MatMul sensitivity.
`weight_matmuls` finds the MatMuls with constant weights and names their BERT layer and family
(`encoder.layer.N.attention.output.dense`, ...); other architectures need their own patterns.
`compress` applies a recipe to a copy of the model.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import nncf
import openvino as ov

from ovserve.export.convert import INT8_KEPT_FP32


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """One way to compress the fp32 IR; the fields map onto `nncf.compress_weights` arguments."""

    name: str
    mode: str | None = "int8_asym"
    """An `nncf.CompressWeightsMode` value; None leaves the fp32 IR as it is."""
    keep: tuple[str, ...] = ()
    """Node names kept at fp32 (`nncf.IgnoredScope(names=...)`)."""
    keep_types: tuple[str, ...] = ()
    """Op types kept at fp32 (`nncf.IgnoredScope(types=...)`)."""
    keep_patterns: tuple[str, ...] = ()
    """Node-name regexes kept at fp32 (`nncf.IgnoredScope(patterns=...)`)."""
    group_size: int | None = None
    ratio: float | None = None
    backup: str | None = None
    """An `nncf.BackupMode` value, for the layers a ratio < 1 leaves out of the primary mode."""
    dq_group_size: int | None = None
    """Written as rt_info `runtime_options/DYNAMIC_QUANTIZATION_GROUP_SIZE`, which the plugin applies
    at compile time (optimum-intel's `OVWeightQuantizationConfig(dq_group_size=...)`)."""


FP32 = Recipe(name="fp32 IR (reference)", mode=None)
PLAIN = Recipe(name="INT8_ASYM (plain)")
"""What `--weight-format int8` did before issue 15; every speed ratio is against it."""
CONTROL = Recipe(name="INT8_ASYM (plain), A/A control")
"""Plain INT8_ASYM again, compiled separately: its speed ratio shows how noisy the ratios are."""
EXPORT = Recipe(
    name="ovserve int8 export (INT8_ASYM + INT8_KEPT_FP32)",
    keep_patterns=tuple(INT8_KEPT_FP32.get("patterns", ())),
)
"""What `--weight-format int8` does now (read from ovserve.export.convert, not copied)."""


@dataclass(frozen=True)
class Weight:
    """A MatMul with a constant weight: what `compress_weights` compresses besides Gathers."""

    name: str
    layer: int | None
    family: str


_LAYER = re.compile(r"encoder\.layer\.(\d+)\.([a-z_.]+?)/")
FAMILIES = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attention output",
    "intermediate.dense": "FFN up",
    "output.dense": "FFN down",
}


def weight_matmuls(model: ov.Model) -> list[Weight]:
    """The MatMuls of `model` whose second input is a constant (through Converts), in graph order."""
    found = []
    for op in model.get_ordered_ops():
        if op.get_type_name() != "MatMul":
            continue
        source = op.input_value(1).get_node()
        while source.get_type_name() == "Convert":
            source = source.input_value(0).get_node()
        if source.get_type_name() != "Constant":
            continue
        name = op.get_friendly_name()
        match = _LAYER.search(name)
        layer = int(match.group(1)) if match else None
        family = FAMILIES.get(match.group(2), "other") if match else "other"
        found.append(Weight(name, layer, family))
    return found


def ignored_scope(recipe: Recipe) -> Any:
    """The `nncf.IgnoredScope` of `recipe`, or None when it keeps nothing at fp32."""
    if not recipe.keep and not recipe.keep_types and not recipe.keep_patterns:
        return None
    return nncf.IgnoredScope(
        names=list(recipe.keep), types=list(recipe.keep_types), patterns=list(recipe.keep_patterns)
    )


def compress_kwargs(recipe: Recipe) -> dict[str, Any]:
    """The keyword arguments of `nncf.compress_weights` for `recipe` (mode must not be None)."""
    kwargs: dict[str, Any] = {"mode": nncf.CompressWeightsMode(recipe.mode)}
    if recipe.group_size is not None:
        kwargs["group_size"] = recipe.group_size
    if recipe.ratio is not None:
        kwargs["ratio"] = recipe.ratio
    if recipe.backup is not None:
        kwargs["backup_mode"] = nncf.BackupMode(recipe.backup)
    scope = ignored_scope(recipe)
    if scope is not None:
        kwargs["ignored_scope"] = scope
    return kwargs


def compress(model: ov.Model, recipe: Recipe) -> ov.Model:
    """A compressed copy of `model` (the fp32 IR itself for `mode=None`); `model` is not changed."""
    if recipe.mode is None:
        return model
    with quiet():
        compressed: ov.Model = nncf.compress_weights(model.clone(), **compress_kwargs(recipe))
    if recipe.dq_group_size is not None:
        compressed.set_rt_info(
            str(recipe.dq_group_size), ["runtime_options", "DYNAMIC_QUANTIZATION_GROUP_SIZE"]
        )
    return compressed


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """NNCF's statistics table (a log record) and its rich progress bar (printed to stdout) off."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def static_recipes(weights: Sequence[Weight]) -> list[Recipe]:
    """Every recipe that does not depend on a measurement."""
    layers = sorted({w.layer for w in weights if w.layer is not None})
    if not layers:
        raise SystemExit("no encoder.layer.N MatMuls found: this script knows BERT's module names only")
    first, last = layers[0], layers[-1]

    def names(keep: Callable[[Weight], bool]) -> tuple[str, ...]:
        return tuple(w.name for w in weights if keep(w))

    def family(name: str) -> tuple[str, ...]:
        return names(lambda w: w.family == name)

    return [
        FP32,
        PLAIN,
        CONTROL,
        Recipe(name="INT8_SYM", mode="int8_sym"),
        Recipe(name="INT8_ASYM, Gathers fp32", keep_types=("Gather",)),
        Recipe(name=f"INT8_ASYM, layer {first} fp32", keep=names(lambda w: w.layer == first)),
        Recipe(name=f"INT8_ASYM, layer {last} fp32", keep=names(lambda w: w.layer == last)),
        Recipe(name=f"INT8_ASYM, layers {first}+{last} fp32", keep=names(lambda w: w.layer in (first, last))),
        Recipe(name=f"INT8_ASYM, layers {last - 1}+{last} fp32",
               keep=names(lambda w: w.layer in (last - 1, last))),
        Recipe(name="INT8_ASYM, value fp32", keep=family("value")),
        EXPORT,
        Recipe(name="INT8_ASYM, attention output fp32", keep=family("attention output")),
        Recipe(name="INT8_ASYM, FFN up fp32", keep=family("FFN up")),
        Recipe(name="INT8_ASYM, FFN down fp32", keep=family("FFN down")),
        Recipe(name="INT8_ASYM, value + FFN up fp32", keep=family("value") + family("FFN up")),
        Recipe(name="INT8_ASYM, rt_info DQ 0", dq_group_size=0),
        Recipe(name="INT4_ASYM g128 r0.8, INT8_ASYM backup", mode="int4_asym", group_size=128, ratio=0.8,
               backup="int8_asym"),
        Recipe(name="INT4_ASYM g64 r0.8, INT8_ASYM backup", mode="int4_asym", group_size=64, ratio=0.8,
               backup="int8_asym"),
    ]  # fmt: skip


def sensitive_recipes(ranked: Sequence[Weight], ks: Sequence[int]) -> list[Recipe]:
    """INT8_ASYM with the first k of `ranked` (most sensitive first) kept at fp32, for each k."""
    return [
        Recipe(name=f"INT8_ASYM, {k} most sensitive fp32", keep=tuple(w.name for w in ranked[:k])) for k in ks
    ]


def nncf_int8_note(model: ov.Model) -> str:
    """What NNCF answers when an INT8 mode is given a group size or a ratio."""
    try:
        with quiet():
            nncf.compress_weights(model.clone(), mode=nncf.CompressWeightsMode.INT8_ASYM, group_size=64)
    except Exception as exc:  # the point is to print NNCF's refusal, whatever its type
        return f"{type(exc).__name__}: {exc}"
    return "accepted (group_size applies to INT8 modes in this NNCF)"
