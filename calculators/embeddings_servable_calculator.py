"""EmbeddingsServableCalculator: loads a model directory once per graph load (a resource node).

Example config:
    node {
      name: "Servable"
      calculator: "EmbeddingsServableCalculator"
      output_side_packet: "MODEL:model"
      output_side_packet: "TOKENIZER:tokenizer"
      node_options: {
        [type.googleapis.com/ovserve.calculators.EmbeddingsServableCalculatorOptions]: {
          models_path: "./"
          plugin_config: '{"INFERENCE_PRECISION_HINT": "f32"}'
        }
      }
    }

`models_path` (absolute, or relative to the graph's base path) holds `openvino_model.xml` and
`openvino_tokenizer.xml` (the OVMS `embeddings_ov` layout, also what `ovserve export` writes).
The model is compiled on `target_device` (default CPU) with `plugin_config`, a JSON object of
OpenVINO properties; `{"INFERENCE_PRECISION_HINT": "f32"}` asks for f32 execution on CPUs
whose plugin would otherwise run bf16, and `"DYNAMIC_QUANTIZATION_GROUP_SIZE": 0` keeps int8/int4
weights from running int8 activations (`ovserve.runtime.execution` says what each gives).
Both side packets are `LoadedModel`s whose `path` is the directory, so downstream nodes can read
its `config.json` and `1_Pooling/config.json`. The tokenizer's own compiled form is made lazily:
the tokenizer node compiles its configured copy.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ovserve._proto.ovserve.calculators.embeddings_servable_calculator_pb2 import (
    EmbeddingsServableCalculatorOptions,
)
from ovserve.errors import ConfigError
from ovserve.graph import (
    CalculatorContract,
    GraphLoadContext,
    LoadedModel,
    OutputSidePacket,
    ResourceCalculator,
    register_calculator,
)

if TYPE_CHECKING:
    import openvino

MODEL = OutputSidePacket[LoadedModel]("MODEL")
TOKENIZER = OutputSidePacket[LoadedModel]("TOKENIZER", optional=True)
MODEL_FILE = "openvino_model.xml"
TOKENIZER_FILE = "openvino_tokenizer.xml"


class LocalModel:
    """A `LoadedModel` read from a directory (version 1, like an OVMS graph's own models)."""

    def __init__(self, *, name: str, path: Path, model: openvino.Model, compile_model: _Compile) -> None:
        self.name = name
        self.version = 1
        self.path = path
        self.model = model
        self._compile = compile_model

    @functools.cached_property
    def compiled(self) -> openvino.CompiledModel:
        return self._compile(self.model)


class _Compile:
    def __init__(self, core: openvino.Core, device: str, properties: dict[str, object]) -> None:
        self.core, self.device, self.properties = core, device, properties

    def __call__(self, model: openvino.Model) -> openvino.CompiledModel:
        return self.core.compile_model(model, self.device, self.properties)


def parse_plugin_config(text: str, *, where: str) -> dict[str, object]:
    """OpenVINO properties from OVMS's `plugin_config` JSON text ("" means none).

    Raises:
        ConfigError: not a JSON object of strings, numbers and booleans.
    """
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: plugin_config is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: plugin_config must be a JSON object, got {text!r}")
    properties: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            properties[key] = value
        elif isinstance(value, str | int | float):
            # OpenVINO parses numeric properties from text, which also covers "NUM_STREAMS": 1.
            properties[key] = str(value)
        else:
            raise ConfigError(f"{where}: plugin_config value of {key!r} must be a string, number or boolean")
    return properties


@register_calculator
class EmbeddingsServableCalculator(ResourceCalculator):
    """Reads and compiles the model directory; never runs per request."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(MODEL, TOKENIZER)
        cc.set_options(EmbeddingsServableCalculatorOptions, required=True)

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        options = lc.options(EmbeddingsServableCalculatorOptions)
        directory = lc.resolve_path(options.models_path or "./")
        model_path = directory / (options.model_file or MODEL_FILE)
        tokenizer_path = directory / (options.tokenizer_file or TOKENIZER_FILE)
        missing = [str(p) for p in (model_path, tokenizer_path) if not p.is_file()]
        if missing:
            raise ConfigError(f"{lc.node_name}: missing model files: {', '.join(missing)}")
        properties = parse_plugin_config(options.plugin_config, where=lc.node_name)
        device = options.target_device or "CPU"
        model = LocalModel(
            name=model_path.stem,
            path=directory,
            model=lc.core.read_model(model_path),
            compile_model=_Compile(lc.core, device, properties),
        )
        try:
            model.compiled  # noqa: B018 - compile now so a bad device or property fails the load
        except RuntimeError as exc:
            raise ConfigError(f"{lc.node_name}: cannot compile {model_path} on {device}: {exc}") from exc
        lc.output_side_packets[MODEL.tag] = model
        lc.output_side_packets[TOKENIZER.tag] = LocalModel(
            name=tokenizer_path.stem,
            path=directory,
            model=lc.core.read_model(tokenizer_path),
            compile_model=_Compile(lc.core, "CPU", {}),
        )
