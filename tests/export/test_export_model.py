"""Real exports of all-MiniLM-L6-v2: the seed tree, rt_info, tokenizer limits, versions, flat layout.

The workspaces come from the shared cache (`tests.support.models`); tests that modify one
work on a copy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
import openvino_tokenizers
import pytest
from openvino.exceptions import OVTypeError

from ovserve.export import convert
from ovserve.export.cli import main
from ovserve.runtime import rt_info
from tests.support.models import (
    DEFAULT_GRAPH_NAME,
    copy_workspace,
    default_model_source,
    exported_workspace,
    graph_dir,
)

pytestmark = pytest.mark.slow

# ~2,000 word pieces: far beyond the 512 positions of the model.
LONG_TEXT = " ".join(["embedding servers should never crash on long input"] * 250)
HF_KEYS = json.loads((default_model_source() / "config.json").read_text())


def _read(path: Path) -> Any:
    return ov.Core().read_model(path)


def _tokenize(tokenizer_xml: Path, texts: list[str]) -> dict[str, np.ndarray[Any, Any]]:
    compiled = ov.Core().compile_model(_read(tokenizer_xml), "CPU")
    return {port.get_any_name(): value for port, value in compiled(texts).items()}


def test_int8_export_produces_the_seed_tree() -> None:
    config = exported_workspace()
    root = config.parent
    files = sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())
    name = DEFAULT_GRAPH_NAME
    assert files == [
        "config.json",
        f"{name}/embeddings/1/model.bin",
        f"{name}/embeddings/1/model.xml",
        f"{name}/graph.pbtxt",
        f"{name}/subconfig.json",
        f"{name}/tokenizer/1/detokenizer/openvino_detokenizer.bin",
        f"{name}/tokenizer/1/detokenizer/openvino_detokenizer.xml",
        f"{name}/tokenizer/1/model.bin",
        f"{name}/tokenizer/1/model.xml",
    ]
    # OVMS loads a version folder's first *.xml file and does not look into subfolders: the
    # detokenizer (ours only) must not sit beside model.xml.
    for version in (graph_dir(config) / "tokenizer/1", graph_dir(config) / "embeddings/1"):
        assert [path.name for path in version.glob("*.xml")] == ["model.xml"]
    assert json.loads(config.read_text()) == {
        "model_config_list": [{"config": {"name": name, "base_path": name}}]
    }
    subconfig = json.loads((graph_dir(config) / "subconfig.json").read_text())
    assert subconfig == {
        "model_config_list": [
            {"config": {"name": f"{name}_tokenizer_model", "base_path": "tokenizer"}},
            {
                "config": {
                    "name": f"{name}_embeddings_model",
                    "base_path": "embeddings",
                    "target_device": "CPU",
                    "plugin_config": {"NUM_STREAMS": "1"},
                }
            },
        ]
    }
    graph = (graph_dir(config) / "graph.pbtxt").read_text()
    assert f'servable_name: "{name}_embeddings_model"' in graph
    assert "normalize_embeddings: true," in graph
    # Weight-only int8: about a quarter of the 90 MB fp32 weights.
    assert (graph_dir(config) / "embeddings/1/model.bin").stat().st_size < 30_000_000


def _matmul_weight_types(model: Any) -> dict[str, str]:
    """Each MatMul with a constant weight -> the element type that constant is stored in."""
    found = {}
    for op in model.get_ordered_ops():
        if op.get_type_name() != "MatMul":
            continue
        source = op.input_value(1).get_node()
        while source.get_type_name() != "Constant" and source.get_input_size() > 0:
            source = source.input_value(0).get_node()
        if source.get_type_name() == "Constant":
            found[op.get_friendly_name()] = source.get_element_type().get_type_name()
    return found


def test_int8_export_keeps_only_the_attention_value_projections_at_fp32() -> None:
    # convert.INT8_KEPT_FP32 (issue 15): the 6 value MatMuls stay f32, the other 30 are u8.
    model = _read(graph_dir(exported_workspace()) / "embeddings/1/model.xml")
    types = _matmul_weight_types(model)
    value = {name for name in types if ".attention.self.value/" in name}
    assert len(types) == 36
    assert len(value) == 6
    assert {types[name] for name in value} == {"f32"}
    assert {types[name] for name in types.keys() - value} == {"u8"}


def test_int8_sym_still_keeps_the_value_projections_at_fp32() -> None:
    config = exported_workspace(extra_quantization_params="--sym")
    types = _matmul_weight_types(_read(graph_dir(config) / "embeddings/1/model.xml"))
    value = {name for name in types if ".attention.self.value/" in name}
    assert {types[name] for name in value} == {"f32"}
    assert {types[name] for name in types.keys() - value} == {"i8"}


def test_rt_info_holds_hf_config_and_ovserve_keys() -> None:
    directory = graph_dir(exported_workspace())
    info = rt_info.read_model_info(_read(directory / "embeddings/1/model.xml"))
    for key, value in HF_KEYS.items():
        assert info[key] == rt_info.stringify(value)
    assert info["max_position_embeddings"] == "512"
    assert info["architectures"] == '["BertModel"]'
    expected = {
        rt_info.KEY_EXPORT_SCHEMA: "1",
        rt_info.KEY_MAX_LENGTH: "256",
        rt_info.KEY_TRUNCATE: "false",
        rt_info.KEY_TOKENIZER_MAX_LENGTH: "512",
        rt_info.KEY_MAX_POSITION_EMBEDDINGS: "512",
        rt_info.KEY_POOLING: "MEAN",
        rt_info.KEY_NORMALIZE: "true",
        rt_info.KEY_WEIGHT_FORMAT: "int8",
        rt_info.KEY_INFERENCE_PRECISION_HINT: "",
        rt_info.KEY_STRIP_TEXT: "true",
    }
    assert {key: info[key] for key in expected} == expected
    tokenizer = _read(directory / "tokenizer/1/model.xml")
    tokenizer_info = rt_info.read_model_info(tokenizer)
    assert tokenizer_info["tokenizer_class"] == "BertTokenizer"
    assert {key: tokenizer_info[key] for key in expected} == expected
    assert tokenizer.get_rt_info(["max_length"]).astype(str) == "512"


def test_tokenizer_never_emits_more_than_the_positional_limit_and_the_model_runs() -> None:
    directory = graph_dir(exported_workspace())
    tokens = _tokenize(directory / "tokenizer/1/model.xml", [LONG_TEXT, "short"])
    assert tokens["input_ids"].shape == (2, 512)
    assert tokens["attention_mask"][0].sum() == 512
    compiled = ov.Core().compile_model(_read(directory / "embeddings/1/model.xml"), "CPU")
    output = compiled(tokens)[0]
    assert output.shape == (2, 512, 384)
    assert np.isfinite(output).all()


def test_version_2_is_added_beside_version_1(tmp_path: Path) -> None:
    config = copy_workspace(exported_workspace(), tmp_path / "ws")
    directory = graph_dir(config)
    graph_before = (directory / "graph.pbtxt").read_text()
    subconfig_before = (directory / "subconfig.json").read_text()
    argv = [
        "embeddings",
        "--source_model",
        str(default_model_source()),
        "--model_name",
        DEFAULT_GRAPH_NAME,
        "--precision",
        "int8",
        "--model_repository_path",
        str(config.parent),
        "--config_file_path",
        str(config),
        "--version",
        "2",
    ]
    assert main(argv) == 0
    for kind in ("embeddings", "tokenizer"):
        assert sorted(path.name for path in (directory / kind).iterdir()) == ["1", "2"]
        assert (directory / kind / "2" / "model.xml").is_file()
        assert (directory / kind / "2" / "model.bin").is_file()
    assert (directory / "graph.pbtxt").read_text() == graph_before
    assert (directory / "subconfig.json").read_text() == subconfig_before
    # Exporting into the same config again leaves a single entry.
    entries = json.loads(config.read_text())["model_config_list"]
    assert entries == [{"config": {"name": DEFAULT_GRAPH_NAME, "base_path": DEFAULT_GRAPH_NAME}}]
    assert sorted(path.name for path in config.parent.iterdir()) == ["config.json", "sentence-transformers"]


def test_flat_layout_with_truncation() -> None:
    config = exported_workspace(layout="flat", truncate=True)
    directory = graph_dir(config)
    names = sorted(path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file())
    assert names == [
        "1_Pooling/config.json",
        "config.json",
        "config_sentence_transformers.json",
        "graph.pbtxt",
        "modules.json",
        "openvino_detokenizer.bin",  # where optimum-cli writes it too
        "openvino_detokenizer.xml",
        "openvino_model.bin",
        "openvino_model.xml",
        "openvino_tokenizer.bin",
        "openvino_tokenizer.xml",
        "sentence_bert_config.json",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
    ]
    graph = (directory / "graph.pbtxt").read_text()
    for line in (
        'calculator: "EmbeddingsCalculatorOV"',
        'models_path: "./",',
        "pooling: MEAN,",
        "truncate: true,",
        "normalize_embeddings: true,",
        'target_device: "CPU",',
        """plugin_config: '{"NUM_STREAMS": "1"}',""",
    ):
        assert line in graph
    assert json.loads(config.read_text())["model_config_list"][0]["config"]["base_path"] == DEFAULT_GRAPH_NAME
    info = rt_info.read_model_info(_read(directory / "openvino_model.xml"))
    assert (info[rt_info.KEY_TRUNCATE], info[rt_info.KEY_TOKENIZER_MAX_LENGTH]) == ("true", "256")
    tokens = _tokenize(directory / "openvino_tokenizer.xml", [LONG_TEXT])
    assert tokens["input_ids"].shape == (1, 256)


def test_fp32_export_asks_for_f32_execution() -> None:
    config = exported_workspace("fp32")
    directory = graph_dir(config)
    subconfig = json.loads((directory / "subconfig.json").read_text())
    plugin_config = subconfig["model_config_list"][1]["config"]["plugin_config"]
    assert plugin_config == {"NUM_STREAMS": "1", "INFERENCE_PRECISION_HINT": "f32"}
    info = rt_info.read_model_info(_read(directory / "embeddings/1/model.xml"))
    assert info[rt_info.KEY_INFERENCE_PRECISION_HINT] == "f32"
    # Not silently halved to fp16 on save: all-MiniLM-L6-v2 has ~22.7M fp32 parameters.
    assert (directory / "embeddings/1/model.bin").stat().st_size > 85_000_000


def test_a_tokenizer_openvino_tokenizers_cannot_detokenize_still_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openvino_tokenizers refuses some decoders; the export then goes on without a detokenizer
    (only TEI's /tokenize and /decode need one) and says so."""
    real = openvino_tokenizers.convert_tokenizer

    def refusing(*args: Any, with_detokenizer: bool = False, **kwargs: Any) -> Any:
        if with_detokenizer:
            raise OVTypeError("Detokenizer is not supported")
        return real(*args, **kwargs)

    monkeypatch.setattr(openvino_tokenizers, "convert_tokenizer", refusing)
    detokenizer = tmp_path / "detokenizer" / "openvino_detokenizer.xml"
    written = convert.export_tokenizer_ir(
        default_model_source(),
        tmp_path / "model.xml",
        max_length=128,
        model_info={},
        ovserve_keys={},
        detokenizer_xml=detokenizer,
    )
    assert not written
    assert (tmp_path / "model.xml").is_file()
    assert not detokenizer.parent.exists()
