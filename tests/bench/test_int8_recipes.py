"""benchmarks/int8_recipes.py builds its recipes right: on a tiny BERT-named model, no export.

The script's figures are never asserted (speed and accuracy are its output); what is checked is
that each recipe keeps at fp32 exactly the MatMuls its name says, and that the "ovserve int8
export" row reads the export's own ignored scope.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

from ovserve.export.convert import INT8_KEPT_FP32
from tests.support.models import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import int8_recipes

MODULES = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
WIDTH = 64


def tiny_bert(layers: int = 3) -> Any:
    """A chain of MatMuls named as optimum names BERT's linear layers; weights random f32."""
    rng = np.random.default_rng(0)
    x = ops.parameter([-1, -1, WIDTH], ov.Type.f32, name="x")
    node: Any = x
    for layer in range(layers):
        for module in MODULES:
            weight = ops.constant(rng.standard_normal((WIDTH, WIDTH)).astype(np.float32))
            node = ops.matmul(node, weight, transpose_a=False, transpose_b=True)
            node.set_friendly_name(f"__module.encoder.layer.{layer}.{module}/aten::linear/MatMul")
    return ov.Model([node], [x], "tiny_bert")


def weight_types(model: Any) -> dict[str, str]:
    """MatMul name -> element type of the constant behind its weight input."""
    found = {}
    for op in model.get_ordered_ops():
        if op.get_type_name() == "MatMul":
            source = op.input_value(1).get_node()
            while source.get_type_name() != "Constant":
                source = source.input_value(0).get_node()
            found[op.get_friendly_name()] = source.get_element_type().get_type_name()
    return found


def recipe(name: str, weights: list[Any]) -> Any:
    return next(r for r in int8_recipes.static_recipes(weights) if r.name == name)


def test_weight_matmuls_name_layer_and_family() -> None:
    weights = int8_recipes.weight_matmuls(tiny_bert())
    assert len(weights) == 18
    assert {w.layer for w in weights} == {0, 1, 2}
    families = [w.family for w in weights if w.layer == 1]
    assert families == ["query", "key", "value", "attention output", "FFN up", "FFN down"]


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("INT8_ASYM (plain)", set()),
        ("INT8_ASYM, layer 0 fp32", {(0, m) for m in MODULES}),
        ("INT8_ASYM, layers 0+2 fp32", {(layer, m) for layer in (0, 2) for m in MODULES}),
        ("INT8_ASYM, value fp32", {(layer, "attention.self.value") for layer in range(3)}),
        ("INT8_ASYM, FFN down fp32", {(layer, "output.dense") for layer in range(3)}),
        (
            "ovserve int8 export (INT8_ASYM + INT8_KEPT_FP32)",
            {(layer, "attention.self.value") for layer in range(3)},
        ),
    ],
)
def test_each_recipe_keeps_exactly_its_matmuls_at_fp32(name: str, kept: set[tuple[int, str]]) -> None:
    model = tiny_bert()
    weights = int8_recipes.weight_matmuls(model)
    compressed = int8_recipes.compress(model, recipe(name, weights))
    types = weight_types(compressed)
    expected = {f"__module.encoder.layer.{layer}.{module}/aten::linear/MatMul" for layer, module in kept}
    assert {n for n, t in types.items() if t == "f32"} == expected
    assert {t for n, t in types.items() if n not in expected} == {"u8"}
    assert set(weight_types(model).values()) == {"f32"}  # the source model is not changed


def test_sensitive_recipes_keep_the_first_k_ranked() -> None:
    weights = int8_recipes.weight_matmuls(tiny_bert())
    ranked = weights[::-1]
    recipes = int8_recipes.sensitive_recipes(ranked, [1, 4])
    assert [r.keep for r in recipes] == [(ranked[0].name,), tuple(w.name for w in ranked[:4])]


def test_export_row_reads_the_export_scope() -> None:
    assert int8_recipes.EXPORT.keep_patterns == tuple(INT8_KEPT_FP32["patterns"])
    assert int8_recipes.EXPORT.mode == "int8_asym"


def test_int8_modes_refuse_a_group_size() -> None:
    note = int8_recipes.nncf_int8_note(tiny_bert(1))
    assert "group_size" in note
    assert note.startswith("ParameterNotSupportedError")
