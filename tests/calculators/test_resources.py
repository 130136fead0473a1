"""Resource calculators and load-time decisions, on tiny in-memory models (no export needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openvino as ov
import pytest
from openvino import opset13

import calculators  # noqa: F401  # registers the built-ins
from calculators.embeddings_servable_calculator import parse_plugin_config
from calculators.ov_model import FeatureExtractor
from calculators.pooling_calculator import resolve_mode
from ovserve._proto.ovserve.calculators.pooling_calculator_pb2 import PoolingCalculatorOptions
from ovserve.errors import ConfigError, NotFound
from ovserve.testing import CalculatorRunner

AUTO_CLS = PoolingCalculatorOptions(mode=PoolingCalculatorOptions.AUTO, fallback=PoolingCalculatorOptions.CLS)


def tiny_model(*, rank: int = 3, input_name: str = "input_ids") -> ov.Model:
    ids = opset13.parameter([-1, -1], np.int64, name=input_name)
    ids.output(0).set_names({input_name})
    hidden = opset13.convert(ids, np.float32)
    if rank == 3:
        hidden = opset13.unsqueeze(hidden, opset13.constant(np.int64(2)))
    return ov.Model([hidden], [ids], "tiny")


@dataclass
class Loaded:
    """A minimal `LoadedModel`."""

    name: str
    version: int
    path: Path
    model: ov.Model
    compiled: ov.CompiledModel


def loaded(path: Path, model: ov.Model | None = None) -> Loaded:
    model = model or tiny_model()
    return Loaded("m", 1, path, model, ov.Core().compile_model(model, "CPU"))


def test_pooling_auto_sources(tmp_path: Path) -> None:
    plain = loaded(tmp_path)
    assert resolve_mode(AUTO_CLS, plain, where="n") == "CLS"  # OVMS's fallback
    assert resolve_mode(PoolingCalculatorOptions(), None, where="n") == "CLS"
    assert (
        resolve_mode(PoolingCalculatorOptions(mode=PoolingCalculatorOptions.LAST), plain, where="n") == "LAST"
    )
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_lasttoken": True}))
    assert resolve_mode(AUTO_CLS, plain, where="n") == "LAST"
    recorded = tiny_model()
    recorded.set_rt_info("MEAN", ["model_info", "ovserve_pooling"])
    assert resolve_mode(AUTO_CLS, loaded(tmp_path, recorded), where="n") == "MEAN"


def test_feature_extractor_contract_checks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no output of rank 3"):
        FeatureExtractor(loaded(tmp_path, tiny_model(rank=2)).compiled, where="n")
    with pytest.raises(ConfigError, match="model input 'pixel_values' is not one of input_ids"):
        FeatureExtractor(loaded(tmp_path, tiny_model(input_name="pixel_values")).compiled, where="n")
    with pytest.raises(ConfigError, match="no output named 'pooled'"):
        FeatureExtractor(loaded(tmp_path).compiled, output_name="pooled", where="n")
    extractor = FeatureExtractor(loaded(tmp_path).compiled, where="n")
    assert extractor.input_names == ("input_ids",)  # fed only what the model declares


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        (
            '{"NUM_STREAMS": 1, "INFERENCE_PRECISION_HINT": "f32"}',
            {"NUM_STREAMS": "1", "INFERENCE_PRECISION_HINT": "f32"},
        ),
        ('{"ENABLE_MMAP": false}', {"ENABLE_MMAP": False}),
    ],
)
def test_plugin_config(text: str, expected: dict[str, object]) -> None:
    assert parse_plugin_config(text, where="n") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "plugin_config is not valid JSON"),
        ('["NUM_STREAMS"]', "plugin_config must be a JSON object"),
        ('{"A": [1]}', "plugin_config value of 'A' must be a string, number or boolean"),
    ],
)
def test_bad_plugin_config(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_plugin_config(text, where="n")


def test_servable_reports_missing_model_files(tmp_path: Path) -> None:
    node = """
      name: "Servable"
      calculator: "EmbeddingsServableCalculator"
      output_side_packet: "MODEL:model"
      node_options: {
        [type.googleapis.com/ovserve.calculators.EmbeddingsServableCalculatorOptions]: { models_path: "m" }
      }
    """
    with pytest.raises(
        ConfigError, match=r"missing model files: .*m/openvino_model\.xml, .*openvino_tokenizer\.xml"
    ):
        CalculatorRunner(node, base_path=tmp_path)


class Resolver:
    """A `ModelResolver` with one model."""

    def __init__(self, model: Loaded) -> None:
        self.model = model
        self.calls: list[tuple[str, int | None]] = []

    def resolve(self, name: str, version: int | None = None) -> Loaded:
        self.calls.append((name, version))
        if name != self.model.name:
            raise NotFound("Model with requested name is not found")
        return self.model


SESSION_NODE = """
  calculator: "OpenVINOModelServerSessionCalculator"
  output_side_packet: "SESSION:session"
  node_options: {
    [type.googleapis.com / mediapipe.OpenVINOModelServerSessionCalculatorOptions]: { %s }
  }
"""


def test_session_resolves_name_and_version(tmp_path: Path) -> None:
    resolver = Resolver(loaded(tmp_path))
    with CalculatorRunner(SESSION_NODE % 'servable_name: "m" servable_version: "1"', resolver=resolver) as r:
        assert r.output_side_packets == {"SESSION": resolver.model}
    with CalculatorRunner(SESSION_NODE % 'servable_name: "m"', resolver=resolver):
        pass
    assert resolver.calls == [("m", 1), ("m", None)]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ('servable_name: "other"', NotFound, "Model with requested name is not found"),
        (
            'servable_name: "m" servable_version: "x"',
            ConfigError,
            "servable_version 'x' is not a positive integer",
        ),
        (
            'servable_name: "m" service_url: "h:9"',
            ConfigError,
            r"remote sessions \(service_url\) are not supported",
        ),
    ],
)
def test_session_errors(tmp_path: Path, options: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        CalculatorRunner(SESSION_NODE % options, resolver=Resolver(loaded(tmp_path)))
