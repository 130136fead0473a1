"""sentence-transformers `Dense` modules (`2_Dense`, ...), folded into the exported model.

A `Dense` module maps the pooled vector through `activation(W x + b)`. The calculators pool
the model's per-token `last_hidden_state`, so the exporter appends the same layers to every
token instead; that equals Dense after pooling exactly when pooling picks one token (CLS,
LAST: any activation) or when every layer is affine (Identity: a mean of `W h + b` is
`W mean(h) + b`). Other combinations (MEAN or another mode with tanh, as LaBSE-style
models have) are refused with one line, rather than exported to give other vectors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovserve.errors import ConfigError

ACTIVATIONS = {
    "torch.nn.modules.linear.Identity": "Identity",
    "torch.nn.modules.activation.Tanh": "Tanh",
}
"""The `activation_function` values ovserve folds (sentence-transformers' default is Tanh)."""
_DENSE_TYPE = "sentence_transformers.models.Dense"


@dataclass(frozen=True, kw_only=True)
class DenseLayer:
    """One `Dense` module: its folder and `config.json`."""

    path: Path
    in_features: int
    out_features: int
    bias: bool
    activation: str
    """Identity or Tanh."""


def read_dense_layers(folder: Path, modules: list[Any]) -> tuple[DenseLayer, ...]:
    """The `Dense` modules of `modules.json`, in order.

    Raises:
        ConfigError: a Dense module's config is unreadable or its activation is not foldable.
    """
    layers = []
    for module in modules:
        if not isinstance(module, dict) or module.get("type") != _DENSE_TYPE:
            continue
        path = folder / str(module.get("path", ""))
        try:
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
            activation = str(config.get("activation_function", "torch.nn.modules.activation.Tanh"))
            layer = DenseLayer(
                path=path,
                in_features=int(config["in_features"]),
                out_features=int(config["out_features"]),
                bias=bool(config.get("bias", True)),
                activation=ACTIVATIONS.get(activation, activation),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path / 'config.json'}: cannot read the Dense module: {exc}") from exc
        if layer.activation not in ACTIVATIONS.values():
            raise ConfigError(
                f"{path}: Dense activation {activation} is not supported (supported: "
                f"{', '.join(ACTIVATIONS)})"
            )
        layers.append(layer)
    return tuple(layers)


def check_foldable(layers: tuple[DenseLayer, ...], pooling: str) -> None:
    """Raises ConfigError when per-token Dense layers would not equal Dense after `pooling`."""
    nonlinear = [layer for layer in layers if layer.activation != "Identity"]
    if nonlinear and pooling not in ("CLS", "LAST"):
        raise ConfigError(
            f"{nonlinear[0].path}: a Dense module with {nonlinear[0].activation} after {pooling} pooling "
            "cannot be folded into the model (supported: CLS or LAST pooling, or Identity activation)"
        )


def fold_dense_layers(ov_model: Any, layers: tuple[DenseLayer, ...]) -> None:
    """Append `layers` to the rank-3 hidden-states output of `ov_model` (in place).

    The output keeps its tensor names (`last_hidden_state`), now `[N, L, out_features]`.
    """
    import numpy as np
    from openvino import opset13 as ops

    (result,) = [r for r in ov_model.get_results() if r.get_output_partial_shape(0).rank.get_length() == 3]
    source = result.input_value(0)
    names = source.get_names()
    x = source
    for layer in layers:
        weight, bias = _weights(layer)
        x = ops.matmul(
            x, ops.constant(np.ascontiguousarray(weight.T, dtype=np.float32)), False, False
        ).output(0)
        if bias is not None:
            x = ops.add(x, ops.constant(bias.astype(np.float32))).output(0)
        if layer.activation == "Tanh":
            x = ops.tanh(x).output(0)
    source.get_tensor().set_names(set())
    x.get_tensor().set_names(names)
    result.input(0).replace_source_output(x)
    ov_model.validate_nodes_and_infer_types()


def _weights(layer: DenseLayer) -> tuple[Any, Any]:
    """(weight [out, in], bias [out] or None) from `model.safetensors` or `pytorch_model.bin`."""
    import numpy as np

    if (layer.path / "model.safetensors").is_file():
        from safetensors.numpy import load_file

        tensors = load_file(str(layer.path / "model.safetensors"))
    else:
        import torch

        state = torch.load(str(layer.path / "pytorch_model.bin"), map_location="cpu", weights_only=True)
        tensors = {key: value.numpy() for key, value in state.items()}
    weight = np.asarray(tensors["linear.weight"], dtype=np.float32)
    if weight.shape != (layer.out_features, layer.in_features):
        raise ConfigError(
            f"{layer.path}: linear.weight is {weight.shape}, config says "
            f"{(layer.out_features, layer.in_features)}"
        )
    bias = tensors.get("linear.bias") if layer.bias else None
    return weight, None if bias is None else np.asarray(bias, dtype=np.float32)
