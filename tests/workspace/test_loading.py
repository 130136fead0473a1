"""Valid workspaces load into the expected specs (no OpenVINO needed: model files are empty)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ovserve.errors import ConfigError
from ovserve.workspace import (
    MetricsSettings,
    ModelSpec,
    VersionPolicy,
    Workspace,
    read_workspace,
    single_model_workspace,
)
from tests.workspace.trees import EMBEDDINGS_GRAPH, Link, config_json, model, seed_tree, write_tree

SEED = "Alibaba-NLP/gte-large-en-v1.5"


def names(workspace: Workspace) -> list[str]:
    return [m.name for m in workspace.all_models()] + [g.name for g in workspace.graphs]


def test_seed_layout_loads_graph_and_its_two_models(tmp_path: Path) -> None:
    write_tree(tmp_path, seed_tree(SEED))
    workspace = read_workspace(tmp_path / "models/config.json")

    assert workspace.rejected == ()
    assert workspace.root == tmp_path / "models"
    assert workspace.config_path == tmp_path / "models/config.json"
    assert workspace.models == ()
    (graph,) = workspace.graphs
    graph_dir = tmp_path / "models" / SEED
    assert graph.name == SEED
    assert graph.base_path == graph_dir
    assert graph.graph_path == graph_dir / "graph.pbtxt"
    assert graph.subconfig_path == graph_dir / "subconfig.json"
    tokenizer, embeddings = graph.models
    assert tokenizer.name == f"{SEED}_tokenizer_model"
    assert tokenizer.base_path == graph_dir / "tokenizer"
    assert tokenizer.graph == SEED
    assert embeddings.base_path == graph_dir / "embeddings"
    assert embeddings.plugin_config == {"NUM_STREAMS": "1"}
    assert embeddings.target_device == "CPU"
    assert embeddings.version_policy == VersionPolicy()
    assert embeddings.nireq == 0
    assert embeddings.origin.endswith("subconfig.json: model_config_list[1].config")
    assert names(workspace) == [tokenizer.name, embeddings.name, SEED]


def test_graph_entry_in_model_config_list_defaults_to_root_slash_name(tmp_path: Path) -> None:
    tree = seed_tree(SEED)
    tree["models/config.json"] = config_json(model(SEED))
    write_tree(tmp_path, tree)
    (graph,) = read_workspace(tmp_path / "models/config.json").graphs
    assert graph.base_path == tmp_path / "models" / SEED
    assert len(graph.models) == 2


def test_graph_detected_through_version_one_directory(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "ws/config.json": config_json(model("mesh", "mesh")),
            "ws/mesh/1/graph.pbtxt": EMBEDDINGS_GRAPH,
            "ws/mesh/1/ov/1/model.xml": "",
            "ws/mesh/1/subconfig.json": config_json(model("mesh_ov", "ov")),
        },
    )
    workspace = read_workspace(tmp_path / "ws/config.json")
    (graph,) = workspace.graphs
    assert graph.graph_path == tmp_path / "ws/mesh/1/graph.pbtxt"
    assert graph.base_path == tmp_path / "ws/mesh/1"
    assert [m.base_path for m in graph.models] == [tmp_path / "ws/mesh/1/ov"]
    assert workspace.models == ()


def test_graph_without_subconfig_and_with_explicit_graph_path(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "config.json": config_json(
                model("flat", "flat"),
                mediapipe_config_list=[{"name": "other", "graph_path": "graphs/g2.pbtxt"}],
            ),
            "flat/graph.pbtxt": EMBEDDINGS_GRAPH,
            "flat/config.json": json.dumps({"hidden_size": 384}),  # HF config: not a subconfig
            "other/graphs/g2.pbtxt": EMBEDDINGS_GRAPH,
        },
    )
    workspace = read_workspace(tmp_path / "config.json")
    flat, other = workspace.graphs
    assert (flat.subconfig_path, flat.models) == (None, ())
    assert other.graph_path == tmp_path / "other/graphs/g2.pbtxt"
    assert other.base_path == tmp_path / "other"  # graph_path does not move the graph directory
    assert workspace.rejected == ()


def test_relative_root_when_config_path_has_no_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {"config.json": config_json(model("m", "m")), "m/1/model.xml": ""})
    monkeypatch.chdir(tmp_path)
    workspace = read_workspace(Path("config.json"))
    assert workspace.root == tmp_path
    (spec,) = workspace.models
    assert spec.base_path == tmp_path / "m"
    assert spec.base_path.is_absolute()
    assert spec.origin == "config.json: model_config_list[0].config"


def test_yaml_is_the_same_schema(tmp_path: Path) -> None:
    document = {
        "model_config_list": [
            {
                "config": {
                    "name": "m",
                    "base_path": "m",
                    "nireq": 2,
                    "plugin_config": {"NUM_STREAMS": 2, "PERF_COUNT": True, "X": 0.5},
                    "model_version_policy": {"specific": {"versions": [3, 1]}},
                }
            }
        ],
        "monitoring": {"metrics": {"enable": True, "metrics_list": ["ovms_requests_success"]}},
    }
    write_tree(tmp_path, {"config.json": json.dumps(document), "m/1/model.xml": ""})
    write_tree(tmp_path, {"config.yaml": yaml.safe_dump(document), "config.yml": yaml.safe_dump(document)})
    from_json = read_workspace(tmp_path / "config.json")
    for name in ("config.yaml", "config.yml"):
        from_yaml = read_workspace(tmp_path / name)
        assert from_yaml.models == tuple(
            _with_origin(m, m.origin.replace("config.json", name)) for m in from_json.models
        )
        assert from_yaml.metrics == from_json.metrics
    (spec,) = from_json.models
    assert spec.plugin_config == {"NUM_STREAMS": "2", "PERF_COUNT": "true", "X": "0.5"}
    assert spec.version_policy == VersionPolicy(kind="specific", versions=(1, 3))
    assert spec.nireq == 2
    assert from_json.metrics == MetricsSettings(enable=True, metrics_list=("ovms_requests_success",))


def _with_origin(spec: ModelSpec, origin: str) -> ModelSpec:
    return dataclasses.replace(spec, origin=origin)


def test_extra_keys_are_kept_raw_and_graph_only_keys_warn(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "config.json": config_json(
                model(
                    "m",
                    "m",
                    batch_size="auto",
                    shape={"input_ids": "(1,128)"},
                    layout="NC",
                    allow_cache=False,
                ),
                model("g", "g", nireq=4),
            ),
            "m/1/model.xml": "",
            "g/graph.pbtxt": EMBEDDINGS_GRAPH,
        },
    )
    workspace = read_workspace(tmp_path / "config.json")
    (spec,) = workspace.models
    assert spec.extra == {
        "batch_size": "auto",
        "shape": {"input_ids": "(1,128)"},
        "layout": "NC",
        "allow_cache": False,
    }
    assert workspace.warnings == (
        f"{tmp_path}/config.json: model_config_list[1].config: keys ignored for a graph entry: nireq",
    )


def test_absolute_base_path_is_allowed_and_symlinks_inside_root_are_kept(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "elsewhere/m/1/model.xml": "",
            "ws/real/1/model.xml": "",
            "ws/alias": Link("real"),
        },
    )
    absolute = tmp_path / "elsewhere/m"
    write_tree(
        tmp_path, {"ws/config.json": config_json(model("abs", str(absolute)), model("alias", "alias"))}
    )
    workspace = read_workspace(tmp_path / "ws/config.json")
    assert [m.base_path for m in workspace.models] == [absolute, tmp_path / "ws/alias"]


def test_dotdot_that_stays_inside_root_is_fine(tmp_path: Path) -> None:
    write_tree(tmp_path, {"config.json": config_json(model("m", "x/../m")), "m/1/model.xml": ""})
    (spec,) = read_workspace(tmp_path / "config.json").models
    assert spec.base_path == tmp_path / "m"


def test_nothing_is_written(tmp_path: Path) -> None:
    write_tree(tmp_path, seed_tree(SEED))
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    os.chmod(tmp_path / "models", 0o555)
    try:
        read_workspace(tmp_path / "models/config.json")
    finally:
        os.chmod(tmp_path / "models", 0o755)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


# -- single-model mode (--model_name / --model_path) ---------------------------------------------------------


def test_single_model_directory(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m/1/model.xml": ""})
    workspace = single_model_workspace(
        "m", tmp_path / "m", target_device="GPU", plugin_config={"NUM_STREAMS": "2"}
    )
    assert workspace.config_path is None
    (spec,) = workspace.models
    assert (spec.name, spec.base_path, spec.target_device) == ("m", tmp_path / "m", "GPU")
    assert spec.plugin_config == {"NUM_STREAMS": "2"}
    assert workspace.graphs == ()


def test_single_model_graph_directory_reads_its_subconfig(tmp_path: Path) -> None:
    write_tree(tmp_path, seed_tree(SEED))
    workspace = single_model_workspace("emb", tmp_path / "models" / SEED)
    (graph,) = workspace.graphs
    assert graph.name == "emb"
    assert len(graph.models) == 2
    assert workspace.models == ()


def test_single_model_graph_in_version_one(tmp_path: Path) -> None:
    write_tree(tmp_path, {"g/1/graph.pbtxt": EMBEDDINGS_GRAPH})
    (graph,) = single_model_workspace("g", tmp_path / "g").graphs
    assert graph.base_path == tmp_path / "g/1"


@pytest.mark.parametrize(
    ("name", "path", "message"),
    [
        ("m", "missing", "--model_path {tmp}/missing: directory {tmp}/missing does not exist"),
        ("", "m", "--model_name: expected a non-empty name"),
        ("m", "s3://bucket/m", "--model_path s3:/bucket/m: remote storage is not supported by ovserve"),
    ],
    ids=["missing-directory", "empty-name", "remote"],
)
def test_single_model_problems_raise(tmp_path: Path, name: str, path: str, message: str) -> None:
    model_path = Path(path) if "://" in path else tmp_path / path
    with pytest.raises(ConfigError) as info:
        single_model_workspace(name, model_path)
    assert str(info.value) == message.format(tmp=tmp_path)


def test_the_package_imports_no_server_or_runtime_framework() -> None:
    code = (
        "import sys, ovserve.workspace; "
        "print(sorted(m for m in ('aiohttp', 'grpc', 'openvino') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
