"""Source-folder facts, option defaults and the text of the written graphs (no conversion)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ovserve.errors import ConfigError
from ovserve.export import layouts
from ovserve.export.convert import INT8_KEPT_FP32, parse_extra_quantization_params
from ovserve.export.hf_model import read_source_model
from ovserve.export.options import ExportOptions
from tests.support.models import REPO_ROOT, default_model_source


def _folder(tmp_path: Path, config: dict[str, object], **files: dict[str, object]) -> Path:
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    for name, content in files.items():
        (folder / name.replace("__", "/")).write_text(json.dumps(content))
    return folder


def test_default_model_facts() -> None:
    source = read_source_model(default_model_source())
    assert source.pooling == "MEAN"
    assert source.max_seq_length == 256
    assert source.max_position_embeddings == 512
    assert source.default_max_length() == 256
    assert source.config["model_type"] == "bert"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}, "CLS"),
        ({"pooling_mode_mean_tokens": True}, "MEAN"),
        ({"pooling_mode_lasttoken": True}, "LAST"),
    ],
)
def test_pooling_read_from_1_pooling(tmp_path: Path, flags: dict[str, object], expected: str) -> None:
    folder = _folder(tmp_path, {"max_position_embeddings": 512}, **{"1_Pooling__config.json": flags})
    assert read_source_model(folder).pooling == expected


def test_no_pooling_file_means_none(tmp_path: Path) -> None:
    assert read_source_model(_folder(tmp_path, {"max_position_embeddings": 512})).pooling is None


@pytest.mark.parametrize(
    "flags",
    [{"pooling_mode_max_tokens": True}, {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True}],
)
def test_unsupported_pooling_is_refused(tmp_path: Path, flags: dict[str, object]) -> None:
    folder = _folder(tmp_path, {"max_position_embeddings": 512}, **{"1_Pooling__config.json": flags})
    with pytest.raises(ConfigError, match="pass --pooling"):
        read_source_model(folder)


def test_max_length_fallbacks(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"n_positions": 1024})
    assert read_source_model(folder).default_max_length() == 1024
    (folder / "config.json").write_text("{}")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 1000000000000000019884624838656})
    )
    with pytest.raises(ConfigError, match="pass --max_length"):
        read_source_model(folder).default_max_length()
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 8192}))
    assert read_source_model(folder).default_max_length() == 8192


@pytest.mark.parametrize(
    ("weight_format", "hint"), [("fp32", "f32"), ("fp16", None), ("int8", None), ("int4", None)]
)
def test_fp32_weights_ask_for_f32_execution_by_default(weight_format: str, hint: str | None) -> None:
    options = ExportOptions(source_model=Path("m"), model_name="m", weight_format=weight_format)
    assert options.inference_precision_hint == hint


@pytest.mark.parametrize(("choice", "hint"), [("default", None), ("f32", "f32"), ("bf16", "bf16")])
def test_execution_precision_overrides(choice: str, hint: str | None) -> None:
    options = ExportOptions(
        source_model=Path("m"), model_name="m", weight_format="fp32", execution_precision=choice
    )
    assert options.inference_precision_hint == hint


@pytest.mark.parametrize(
    ("weight_format", "choice", "properties"),
    [
        ("fp32", "auto", {"INFERENCE_PRECISION_HINT": "f32"}),
        ("fp16", "f32", {"INFERENCE_PRECISION_HINT": "f32"}),
        ("int8", "f32", {"INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"}),
        ("int4", "f32", {"INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"}),
        ("int8", "auto", {}),
        ("int8", "bf16", {"INFERENCE_PRECISION_HINT": "bf16"}),
    ],
)
def test_f32_on_compressed_weights_also_turns_off_dynamic_quantization(
    weight_format: str, choice: str, properties: dict[str, str]
) -> None:
    options = ExportOptions(
        source_model=Path("m"), model_name="m", weight_format=weight_format, execution_precision=choice
    )
    assert options.precision_properties == properties


def test_option_defaults_follow_ovms() -> None:
    options = ExportOptions(source_model=Path("BAAI/bge-small-en-v1.5"))
    assert options.graph_name == "BAAI/bge-small-en-v1.5"
    assert options.graph_dir == Path("models/BAAI/bge-small-en-v1.5")
    assert options.config_file == Path("models/config.json")
    assert (options.weight_format, options.num_streams, options.version, options.layout) == (
        "int8",
        1,
        1,
        "versioned",
    )


def test_extra_quantization_params_mapping() -> None:
    assert parse_extra_quantization_params("", "fp16") is None
    int8 = {"bits": 8, "group_size": None, "ratio": 1.0, "ignored_scope": INT8_KEPT_FP32}
    assert parse_extra_quantization_params("", "int8") == int8
    assert parse_extra_quantization_params("--sym", "int8") == {**int8, "sym": True}
    # A copy each time: optimum or a caller may change it.
    again = parse_extra_quantization_params("", "int8")
    assert again is not None
    assert again["ignored_scope"] is not INT8_KEPT_FP32
    assert parse_extra_quantization_params("--sym --group-size 64 --ratio 0.8 --all-layers", "int4") == {
        "bits": 4,
        "group_size": 64,
        "ratio": 0.8,
        "sym": True,
        "all_layers": True,
    }


def test_versioned_graph_names_the_subconfig_servables() -> None:
    graph = layouts.versioned_graph("org/model", normalize=False)
    assert 'servable_name: "org/model_tokenizer_model"' in graph
    assert 'servable_name: "org/model_embeddings_model"' in graph
    assert 'calculator: "EmbeddingsCalculator"' in graph
    assert "normalize_embeddings: false," in graph
    assert graph.count('calculator: "OpenVINOModelServerSessionCalculator"') == 2


def test_flat_graph_options() -> None:
    graph = layouts.flat_graph(
        normalize=True, pooling="MEAN", truncate=True, target_device="CPU", plugin_config={"NUM_STREAMS": "2"}
    )
    assert 'models_path: "./",' in graph
    assert """plugin_config: '{"NUM_STREAMS": "2"}',""" in graph
    for line in ("normalize_embeddings: true,", "pooling: MEAN,", "truncate: true,", 'target_device: "CPU",'):
        assert line in graph
    assert 'name: "EmbeddingsExecutor"' in graph


def test_importing_export_pulls_in_no_heavy_stack() -> None:
    code = (
        "import sys, ovserve.export, ovserve.export.cli, ovserve.runtime.rt_info; "
        "heavy = [m for m in ('torch', 'transformers', 'optimum', 'nncf') if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert result.stdout.strip() == "[]"


def test_python_dash_m_entry_point_prints_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ovserve.export", "embeddings", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0
    for flag in ("--weight-format", "--precision", "--layout", "--max_length", "--execution_precision"):
        assert flag in result.stdout


def test_prompts_read_from_config_sentence_transformers(tmp_path: Path) -> None:
    settings: dict[str, object] = {
        "prompts": {"query": "query: ", "passage": ""},
        "default_prompt_name": "query",
    }
    folder = _folder(
        tmp_path, {"max_position_embeddings": 512}, **{"config_sentence_transformers.json": settings}
    )
    source = read_source_model(folder)
    assert source.prompts == {"query": "query: ", "passage": ""}
    assert source.default_prompt_name == "query"
    plain = read_source_model(_folder(tmp_path / "plain", {"max_position_embeddings": 512}))
    assert (plain.prompts, plain.default_prompt_name) == ({}, None)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"config_sentence_transformers.json": {"prompts": ["query: "]}},
            "prompts must be an object of strings",
        ),
        (
            {"config_sentence_transformers.json": {"prompts": {"q": 1}}},
            "prompts must be an object of strings",
        ),
        (
            {"config_sentence_transformers.json": {"prompts": {"q": "q: "}, "default_prompt_name": "p"}},
            "default_prompt_name 'p' is not one of the prompts",
        ),
        (
            {
                "config_sentence_transformers.json": {"prompts": {"q": "Represent: "}},
                "1_Pooling__config.json": {"pooling_mode_mean_tokens": True, "include_prompt": False},
            },
            "include_prompt false",
        ),
    ],
)
def test_prompts_that_cannot_be_served_are_refused(
    tmp_path: Path, files: dict[str, dict[str, object]], message: str
) -> None:
    folder = _folder(tmp_path, {"max_position_embeddings": 512}, **files)
    with pytest.raises(ConfigError, match=message):
        read_source_model(folder)
