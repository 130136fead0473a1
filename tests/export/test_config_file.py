"""Config-file update: add once, update in place, never duplicate; JSON and YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ovserve.errors import ConfigError
from ovserve.export.config_file import base_path_for, check_config_file, update_config_file

NAME = "org/model"


def test_creates_a_missing_file_with_one_entry(tmp_path: Path) -> None:
    config = tmp_path / "sub" / "config.json"
    assert update_config_file(config, NAME, "org/model") == "added"
    assert json.loads(config.read_text()) == {
        "model_config_list": [{"config": {"name": NAME, "base_path": "org/model"}}]
    }


def test_second_update_is_idempotent(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    update_config_file(config, NAME, "org/model")
    before = config.read_text()
    assert update_config_file(config, NAME, "org/model") == "unchanged"
    assert config.read_text() == before


def test_existing_entry_is_updated_in_place_keeping_other_keys(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    original = {
        "model_config_list": [
            {"config": {"name": "other", "base_path": "other"}},
            {"config": {"name": NAME, "base_path": "old/place", "graph_path": "graph.pbtxt"}},
        ],
        "monitoring": {"metrics": {"enable": True}},
    }
    config.write_text(json.dumps(original))
    assert update_config_file(config, NAME, "org/model") == "updated"
    data = json.loads(config.read_text())
    assert data["model_config_list"] == [
        {"config": {"name": "other", "base_path": "other"}},
        {"config": {"name": NAME, "base_path": "org/model", "graph_path": "graph.pbtxt"}},
    ]
    assert data["monitoring"] == {"metrics": {"enable": True}}


def test_legacy_mediapipe_entry_is_updated_not_duplicated(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "model_config_list": [],
                "mediapipe_config_list": [
                    {"name": NAME, "base_path": "elsewhere", "subconfig": "subconfig.json"}
                ],
            }
        )
    )
    assert update_config_file(config, NAME, "org/model") == "updated"
    assert update_config_file(config, NAME, "org/model") == "unchanged"
    data = json.loads(config.read_text())
    assert data["model_config_list"] == []
    assert data["mediapipe_config_list"] == [
        {"name": NAME, "base_path": "org/model", "subconfig": "subconfig.json"}
    ]


def test_file_without_model_config_list_gets_one(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"mediapipe_config_list": []}')
    assert update_config_file(config, NAME, "org/model") == "added"
    assert json.loads(config.read_text())["model_config_list"] == [
        {"config": {"name": NAME, "base_path": "org/model"}}
    ]


def test_empty_file_is_treated_as_new(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text("")
    assert update_config_file(config, NAME, "org/model") == "added"


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_config_same_schema(tmp_path: Path, suffix: str) -> None:
    config = tmp_path / f"config{suffix}"
    assert update_config_file(config, NAME, "org/model") == "added"
    assert update_config_file(config, NAME, "org/model") == "unchanged"
    assert yaml.safe_load(config.read_text()) == {
        "model_config_list": [{"config": {"name": NAME, "base_path": "org/model"}}]
    }


def test_malformed_yaml_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("model_config_list: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        check_config_file(config)


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    update_config_file(config, NAME, "a")
    update_config_file(config, NAME, "b")
    assert [path.name for path in tmp_path.iterdir()] == ["config.json"]


def test_base_path_is_relative_posix_inside_and_absolute_outside(tmp_path: Path) -> None:
    config = tmp_path / "ws" / "config.json"
    assert base_path_for(config, tmp_path / "ws" / "org" / "model") == "org/model"
    assert base_path_for(config, tmp_path / "ws" / "models" / "org" / "model") == "models/org/model"
    outside = tmp_path / "models" / "org" / "model"
    assert base_path_for(config, outside) == outside.resolve().as_posix()


def test_base_path_for_relative_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert base_path_for(Path("config.json"), Path("models/org/model")) == "models/org/model"
    assert base_path_for(Path("models/config.json"), Path("models/org/model")) == "org/model"
