"""Malformed entries, by what they point at or collide with: base paths that leave the
workspace, are remote or are missing; graph and subconfig files that are missing, escape or do
not parse; names used twice across models, graphs and subconfigs; and entry kinds ovserve does
not serve (DAG pipelines, custom loaders).

Each case disables only that entry, and a graph with it when a subconfig model is the problem
(see `malformed.assert_disables_only_that_entry`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.workspace.malformed import CONFIG, Case, assert_disables_only_that_entry, cfg
from tests.workspace.trees import Link, model, subconfig_json


def sub(*items: object) -> dict[str, str | Link | None]:
    return {"models/g/subconfig.json": subconfig_json(*items)}


ENTRY_RESOLUTION = [
    Case(
        "base-path-escapes-with-dotdot",
        cfg(model("a", "../outside")),
        f'{CONFIG}: model_config_list[0].config.base_path: "../outside" leaves ',
        rejected=("a", "model"),
    ),
    Case(
        "base-path-symlink-escapes",
        {**cfg(model("a", "linked")), "models/linked": Link("../outside")},
        f'{CONFIG}: model_config_list[0].config.base_path: "linked" resolves through a symlink to ',
        rejected=("a", "model"),
    ),
    Case(
        "default-base-path-from-name-escapes",
        cfg(model("../outside")),
        f'{CONFIG}: model_config_list[0].config.name: "../outside" leaves ',
        rejected=("../outside", "model"),
    ),
    Case(
        "s3-base-path",
        cfg(model("a", "s3://bucket/models/a")),
        f'{CONFIG}: model_config_list[0].config.base_path: "s3://bucket/models/a" is a remote storage URL; '
        "remote storage is not supported by ovserve",
        rejected=("a", "model"),
    ),
    Case(
        "base-path-missing-directory",
        cfg(model("a", "nope")),
        f"{CONFIG}: model_config_list[0].config.base_path: directory ",
        rejected=("a", "model"),
    ),
    Case(
        "base-path-is-a-file",
        cfg(model("a", "good/1/model.xml")),
        "is not a directory (expected numeric version sub-directories)",
        rejected=("a", "model"),
    ),
    Case(
        "model-without-base-path",
        cfg(model("a")),
        f"{CONFIG}: model_config_list[0].config.base_path: required for a model (no graph.pbtxt in ",
        rejected=("a", "model"),
    ),
    Case(
        "graph-path-not-found",
        cfg(model("a", "g", graph_path="other.pbtxt")),
        f"{CONFIG}: model_config_list[0].config.graph_path: graph file ",
        rejected=("a", "graph"),
    ),
    Case(
        "explicit-subconfig-not-found",
        cfg(model("a", "g", subconfig="models.json")),
        f"{CONFIG}: model_config_list[0].config.subconfig: file ",
        rejected=("a", "graph"),
    ),
    Case(
        "graph-file-symlink-escapes",
        {**cfg(model("a", "h")), "models/h/graph.pbtxt": Link("../../outside/graph.pbtxt")},
        f'{CONFIG}: model_config_list[0].config.graph_path: "graph.pbtxt" resolves through a symlink',
        rejected=("a", "model"),
    ),
    Case(
        "mediapipe-missing-graph-file",
        cfg(mediapipe_config_list=[{"name": "m", "base_path": "plain"}]),
        f"{CONFIG}: mediapipe_config_list[0].base_path: no graph.pbtxt found in ",
        rejected=("m", "graph"),
    ),
    Case(
        "mediapipe-unknown-key",
        cfg(mediapipe_config_list=[{"name": "m", "base_path": "g", "plugin_config": {}}]),
        f"{CONFIG}: mediapipe_config_list[0].plugin_config: unknown key "
        "(expected one of: base_path, graph_path, name, subconfig)",
        rejected=("m", "graph"),
    ),
    Case(
        "duplicate-model-names",
        cfg(model("good", "plain")),
        f'{CONFIG}: model_config_list[1].config.name: "good" is already used by model "good" '
        f"({CONFIG}: model_config_list[0].config); the first one wins",
        rejected=("good", "model"),
    ),
    Case(
        "graph-and-model-same-name",
        cfg(model("g"), mediapipe_config_list=[{"name": "good", "base_path": "g"}]),
        f'{CONFIG}: mediapipe_config_list[0].name: "good" is already used by model "good"',
        rejected=("good", "graph"),
    ),
    Case(
        "subconfig-model-clashes-with-earlier-model",
        {**cfg(model("tok", "plain"), model("g")), **sub(model("tok", "tok"))},
        'models/g/subconfig.json: model_config_list[0].config.name: "tok" is already used by model "tok"',
        rejected=("tok", "model"),
        also_rejected=("g",),
    ),
    Case(
        "later-model-clashes-with-subconfig-model",
        {**cfg(model("g"), model("tok", "plain")), **sub(model("tok", "tok"))},
        f'{CONFIG}: model_config_list[1].config.name: "tok" is already used by model "tok" of graph "g"',
        rejected=("tok", "model"),
    ),
    Case(
        "subconfig-model-named-like-its-graph",
        {**cfg(model("g")), **sub(model("g", "tok"))},
        'models/g/subconfig.json: model_config_list[0].config.name: "g" is already used by graph "g"',
        rejected=("g", "model"),
    ),
    Case(
        "subconfig-invalid-json",
        {**cfg(model("g")), "models/g/subconfig.json": '{"model_config_list": [\n'},
        f'{CONFIG}: model_config_list[0].config: graph "g": models/g/subconfig.json: '
        "invalid JSON at line 2, column 1",
        rejected=("g", "graph"),
    ),
    Case(
        "subconfig-unknown-top-level-key",
        {
            **cfg(model("g")),
            "models/g/subconfig.json": json.dumps({"model_config_list": [], "monitoring": {}}),
        },
        'graph "g": models/g/subconfig.json: monitoring: unknown key (expected one of: model_config_list)',
        rejected=("g", "graph"),
    ),
    Case(
        "subconfig-model-escapes",
        {**cfg(model("g")), **sub(model("t", "../good"))},
        'models/g/subconfig.json: model_config_list[0].config.base_path: "../good" leaves ',
        rejected=("t", "model"),
        also_rejected=("g",),
    ),
    Case(
        "subconfig-model-absolute-outside",
        {**cfg(model("g")), **sub(model("t", "/"))},
        'models/g/subconfig.json: model_config_list[0].config.base_path: "/" leaves ',
        rejected=("t", "model"),
        also_rejected=("g",),
    ),
    Case(
        "subconfig-model-bad-type-disables-graph",
        {**cfg(model("g")), **sub(model("t", "tok", nireq="x"))},
        f'{CONFIG}: model_config_list[0].config: graph "g" disabled: 1 invalid model(s) in '
        "models/g/subconfig.json",
        rejected=("g", "graph"),
        also_rejected=("t",),
    ),
    Case(
        "pipeline-not-supported",
        cfg(pipeline_config_list=[{"name": "dag", "nodes": []}]),
        f"{CONFIG}: pipeline_config_list[0]: DAG pipelines are not supported by ovserve",
        rejected=("dag", "pipeline"),
    ),
    Case(
        "custom-loader-not-supported",
        cfg(custom_loader_config_list=[{"config": {"loader_name": "l", "library_path": "x.so"}}]),
        f"{CONFIG}: custom_loader_config_list[0]: custom loaders are not supported by ovserve",
        rejected=("l", "custom_loader"),
    ),
]


@pytest.mark.parametrize("case", ENTRY_RESOLUTION, ids=[c.id for c in ENTRY_RESOLUTION])
def test_entry_level_problem_disables_only_that_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    assert_disables_only_that_entry(tmp_path, monkeypatch, case)
