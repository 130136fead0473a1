"""Placement logic with the two conversions replaced by stubs: overwrite, versions, layout switch.

The stubs write small placeholder IR files, so these tests check where things land and what
gets replaced without paying for a real export (the slow tests cover the real one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ovserve.export import convert
from ovserve.export.cli import main
from tests.support.models import default_model_source

NAME = "org/model"


@pytest.fixture(autouse=True)
def stub_conversions(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake(source: Path, xml_path: Path, **kwargs: Any) -> None:
        calls.append({"xml": xml_path.name, **kwargs})
        xml_path.write_text(f"<net {kwargs.get('weight_format', 'tokenizer')}/>")
        xml_path.with_suffix(".bin").write_bytes(b"")

    monkeypatch.setattr(convert, "export_model_ir", fake)
    monkeypatch.setattr(convert, "export_tokenizer_ir", fake)
    return calls


def _export(repo: Path, *extra: str) -> int:
    argv = ["embeddings", "--source_model", str(default_model_source()), "--model_name", NAME]
    return main([*argv, "--model_repository_path", str(repo), *extra])


def _tree(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def test_versions_accumulate_and_overwrite_replaces_only_the_given_one(tmp_path: Path) -> None:
    repo = tmp_path / "ws"
    assert _export(repo) == 0
    assert _export(repo, "--version", "2", "--weight-format", "fp16") == 0
    graph_dir = repo / NAME
    assert (graph_dir / "embeddings/1/model.xml").read_text() == "<net int8/>"
    assert (graph_dir / "embeddings/2/model.xml").read_text() == "<net fp16/>"
    assert _export(repo, "--version", "1", "--weight-format", "fp32") == 2
    assert _export(repo, "--version", "1", "--weight-format", "fp32", "--overwrite_models") == 0
    assert (graph_dir / "embeddings/1/model.xml").read_text() == "<net fp32/>"
    assert (graph_dir / "embeddings/2/model.xml").read_text() == "<net fp16/>"
    assert _tree(repo) == [
        "config.json",
        f"{NAME}/embeddings/1/model.bin",
        f"{NAME}/embeddings/1/model.xml",
        f"{NAME}/embeddings/2/model.bin",
        f"{NAME}/embeddings/2/model.xml",
        f"{NAME}/graph.pbtxt",
        f"{NAME}/subconfig.json",
        f"{NAME}/tokenizer/1/model.bin",
        f"{NAME}/tokenizer/1/model.xml",
        f"{NAME}/tokenizer/2/model.bin",
        f"{NAME}/tokenizer/2/model.xml",
    ]
    config = json.loads((repo / "config.json").read_text())
    assert config == {"model_config_list": [{"config": {"name": NAME, "base_path": NAME}}]}


def test_subconfig_follows_the_latest_export(tmp_path: Path) -> None:
    repo = tmp_path / "ws"
    assert _export(repo) == 0
    assert (
        _export(repo, "--version", "2", "--weight-format", "fp32", "--num_streams", "2", "--skip_normalize")
        == 0
    )
    subconfig = json.loads((repo / NAME / "subconfig.json").read_text())
    embeddings = subconfig["model_config_list"][1]["config"]
    assert embeddings["plugin_config"] == {"NUM_STREAMS": "2", "INFERENCE_PRECISION_HINT": "f32"}
    assert "normalize_embeddings: false," in (repo / NAME / "graph.pbtxt").read_text()


def test_switching_layouts_needs_overwrite_and_then_replaces_the_directory(tmp_path: Path) -> None:
    repo = tmp_path / "ws"
    assert _export(repo) == 0
    assert _export(repo, "--layout", "flat") == 2
    assert _export(repo, "--layout", "flat", "--overwrite_models") == 0
    graph_dir = repo / NAME
    assert not (graph_dir / "embeddings").exists()
    assert (graph_dir / "openvino_model.xml").is_file()
    assert (graph_dir / "1_Pooling" / "config.json").is_file()
    assert _export(repo) == 2
    assert _export(repo, "--overwrite_models") == 0
    assert not (graph_dir / "openvino_model.xml").exists()
    assert (graph_dir / "embeddings/1/model.xml").is_file()


def test_no_staging_directory_is_left_behind(tmp_path: Path) -> None:
    repo = tmp_path / "ws"
    assert _export(repo) == 0
    assert sorted(path.name for path in repo.iterdir()) == ["config.json", "org"]


def test_lengths_passed_to_the_conversions(tmp_path: Path, stub_conversions: list[dict[str, Any]]) -> None:
    assert _export(tmp_path / "a") == 0
    model_call, tokenizer_call = stub_conversions
    assert tokenizer_call["max_length"] == 512  # truncate off: cut at the positional limit
    assert model_call["ovserve_keys"]["ovserve_max_length"] == "256"
    assert model_call["ovserve_keys"]["ovserve_tokenizer_max_length"] == "512"
    assert model_call["model_info"]["max_position_embeddings"] == 512
    stub_conversions.clear()
    assert _export(tmp_path / "b", "--truncate", "--max_length", "128") == 0
    model_call, tokenizer_call = stub_conversions
    assert tokenizer_call["max_length"] == 128
    assert model_call["ovserve_keys"]["ovserve_truncate"] == "true"


def test_config_yaml_and_default_config_location(tmp_path: Path) -> None:
    repo = tmp_path / "ws"
    assert _export(repo, "--config_file_path", str(tmp_path / "config.yaml")) == 0
    assert (tmp_path / "config.yaml").read_text().count("name: org/model") == 1
    assert "base_path: ws/org/model" in (tmp_path / "config.yaml").read_text()
    assert _export(tmp_path / "other") == 0
    assert json.loads((tmp_path / "other" / "config.json").read_text())["model_config_list"][0]["config"] == {
        "name": NAME,
        "base_path": NAME,
    }


def test_progress_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _export(tmp_path / "ws") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line[:5] for line in lines[:5]] == ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]
    assert "exporting model (int8)" in lines[1]
    assert lines[-1].startswith("exported 'org/model'")
