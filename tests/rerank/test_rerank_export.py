"""`ovserve export rerank` / `rerank_ov`: OVMS's trees, the recorded pair layout, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import openvino as ov
import pytest

from ovserve.export.cli import main
from ovserve.export.rerank import KEY_PAIR_TEMPLATE
from ovserve.runtime import rt_info
from tests.support.cross_encoders import MAX_LENGTH, cross_encoder, rerank_workspace
from tests.support.models import default_model_source


def _info(xml: Path) -> dict[str, str]:
    import openvino_tokenizers  # noqa: F401 - registers the tokenizer operations

    return rt_info.read_model_info(ov.Core().read_model(xml))


def test_flat_tree_is_what_rerank_ov_writes() -> None:
    graph = rerank_workspace("bert", "flat").parent / "rerank" / "bert"
    for name in (
        "graph.pbtxt",
        "openvino_model.xml",
        "openvino_tokenizer.xml",
        "config.json",
        "tokenizer.json",
    ):
        assert (graph / name).is_file(), name
    text = (graph / "graph.pbtxt").read_text()
    assert 'calculator: "RerankCalculatorOV"' in text
    assert '"INFERENCE_PRECISION_HINT": "f32"' in text  # fp32 weights pin f32 arithmetic
    config = json.loads((rerank_workspace("bert", "flat")).read_text())
    assert config["model_config_list"] == [{"config": {"name": "rerank/bert", "base_path": "rerank/bert"}}]


def test_versioned_tree_is_what_rerank_wrote() -> None:
    graph = rerank_workspace("xlm-roberta", "versioned").parent / "rerank" / "xlm-roberta"
    assert (graph / "rerank" / "1" / "model.xml").is_file()
    assert (graph / "tokenizer" / "1" / "model.xml").is_file()
    assert 'calculator: "RerankCalculator"' in (graph / "graph.pbtxt").read_text()
    subconfig = json.loads((graph / "subconfig.json").read_text())
    names = [entry["config"]["name"] for entry in subconfig["model_config_list"]]
    assert names == ["rerank/xlm-roberta_tokenizer_model", "rerank/xlm-roberta_rerank_model"]


@pytest.mark.parametrize(
    ("name", "layout", "ids", "types"),
    [
        ("bert", "flat", [101, -1, 102, -2, 102], [0, 0, 0, 1, 1]),
        ("xlm-roberta", "versioned", [0, -1, 2, 2, -2, 2], [0, 0, 0, 0, 0, 0]),
    ],
)
def test_pair_template_and_max_length_are_recorded(
    name: str, layout: str, ids: list[int], types: list[int]
) -> None:
    graph = rerank_workspace(name, layout).parent / "rerank" / name
    xml = graph / ("openvino_tokenizer.xml" if layout == "flat" else "tokenizer/1/model.xml")
    info = _info(xml)
    assert json.loads(info[KEY_PAIR_TEMPLATE]) == {"ids": ids, "types": types}
    assert info[rt_info.KEY_MAX_LENGTH] == str(MAX_LENGTH)


def test_refuses_a_model_without_a_classification_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["rerank", "--source_model", str(default_model_source()), "--model_name", "m"]
    code = main([*argv, "--model_repository_path", str(tmp_path / "models")])
    assert code == 2
    assert "not a sequence-classification" in capsys.readouterr().err
    assert not (tmp_path / "models" / "m").exists()


def test_refuses_an_existing_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m").mkdir(parents=True)
    (tmp_path / "m" / "graph.pbtxt").write_text("")
    argv = ["rerank_ov", "--source_model", str(cross_encoder("bert")), "--model_name", "m"]
    assert main([*argv, "--model_repository_path", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_refuses_a_bad_max_doc_length(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["rerank_ov", "--source_model", str(cross_encoder("bert")), "--max_doc_length", "0"]
    assert main([*argv, "--model_name", "m", "--model_repository_path", str(tmp_path)]) == 2
    assert "--max_doc_length" in capsys.readouterr().err
