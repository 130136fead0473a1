"""Table-driven: each malformed workspace gives one precise message, at the right level.

A case is either file-level (`read_workspace` raises `ConfigError`) or entry-level (the entry is
in `Workspace.rejected` and the valid model "good", written last, still loads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ovserve.errors import ConfigError
from ovserve.workspace import read_workspace
from tests.workspace.trees import EMBEDDINGS_GRAPH, Link, Tree, config_json, model, subconfig_json, write_tree

CONFIG = "models/config.json"
GOOD = model("good", "good")
BASE: dict[str, str | Link | None] = {
    "models/good/1/model.xml": "",
    "models/plain/1/model.xml": "",
    "models/g/graph.pbtxt": EMBEDDINGS_GRAPH,
    "models/g/tok/1/model.xml": "",
    "outside/1/model.xml": "",
    "outside/graph.pbtxt": EMBEDDINGS_GRAPH,
}


@dataclass(frozen=True)
class Case:
    id: str
    files: Tree
    message: str
    """Expected message, or a part of it (`...` nowhere: we check `in`)."""
    rejected: tuple[str, str] | None = None
    """(name, kind) of the rejected entry; None for a file-level `ConfigError`."""
    config: str = CONFIG
    also_rejected: tuple[str, ...] = field(default=())
    """Names of further entries expected in `rejected` (e.g. the graph of a bad subconfig model)."""


def cfg(*items: object, **sections: object) -> dict[str, str | Link | None]:
    return {CONFIG: config_json(*items, GOOD, **sections)}


def sub(*items: object) -> dict[str, str | Link | None]:
    return {"models/g/subconfig.json": subconfig_json(*items)}


MODEL_KEYS = (
    "allow_cache, base_path, batch_size, custom_loader_options, graph_path, layout, "
    "model_version_policy, name, nireq, plugin_config, shape, subconfig, target_device"
)

FILE_LEVEL = [
    Case("missing-file", {}, f"{CONFIG}: file not found"),
    Case("config-is-directory", {CONFIG: None}, f"{CONFIG}: expected a file, found a directory"),
    Case(
        "invalid-json-line-col",
        {CONFIG: '{\n  "model_config_list": [}\n'},
        f"{CONFIG}: invalid JSON at line 2, column 25: Expecting value",
    ),
    Case("json-nan", {CONFIG: '{"model_config_list": [], "x": NaN}'}, f"{CONFIG}: invalid JSON: NaN is not"),
    Case(
        "invalid-yaml-line-col",
        {"models/config.yaml": "model_config_list:\n\t- x\n"},
        "models/config.yaml: invalid YAML at line 2, column 1: found character '\\t'",
        config="models/config.yaml",
    ),
    Case(
        "empty-yaml",
        {"models/config.yml": ""},
        "models/config.yml: top level: expected an object, got null",
        config="models/config.yml",
    ),
    Case("top-level-array", {CONFIG: "[]"}, f"{CONFIG}: top level: expected an object, got an array"),
    Case(
        "unknown-top-level-key",
        {CONFIG: json.dumps({"model_config_list": [], "model_config": []})},
        f"{CONFIG}: model_config: unknown key (expected one of: custom_loader_config_list, ",
    ),
    Case(
        "missing-model-config-list",
        {CONFIG: json.dumps({"mediapipe_config_list": []})},
        f'{CONFIG}: top level: missing required key "model_config_list"',
    ),
    Case(
        "model-config-list-not-array",
        {CONFIG: json.dumps({"model_config_list": {"config": {"name": "a"}}})},
        f"{CONFIG}: model_config_list: expected an array, got an object",
    ),
    Case(
        "mediapipe-list-not-array",
        {CONFIG: json.dumps({"model_config_list": [], "mediapipe_config_list": "g"})},
        f'{CONFIG}: mediapipe_config_list: expected an array, got "g"',
    ),
    Case(
        "metrics-enable-missing",
        {CONFIG: json.dumps({"model_config_list": [], "monitoring": {"metrics": {"metrics_list": []}}})},
        f'{CONFIG}: monitoring.metrics: missing required key "enable"',
    ),
    Case(
        "metrics-enable-not-bool",
        {CONFIG: json.dumps({"model_config_list": [], "monitoring": {"metrics": {"enable": "yes"}}})},
        f'{CONFIG}: monitoring.metrics.enable: expected a boolean, got "yes"',
    ),
    Case(
        "metrics-unknown-key",
        {CONFIG: json.dumps({"model_config_list": [], "monitoring": {"metric": {}}})},
        f"{CONFIG}: monitoring.metric: unknown key (expected one of: metrics)",
    ),
]

ENTRY_LEVEL = [
    Case(
        "item-with-two-keys",
        {CONFIG: config_json({"config": {"name": "a", "base_path": "plain"}, "extra": 1}, GOOD)},
        f'{CONFIG}: model_config_list[0]: expected an object with exactly one key "config", '
        'got keys "config", "extra"',
        rejected=("a", "model"),
    ),
    Case(
        "item-not-object",
        {CONFIG: config_json("plain", GOOD)},
        f'{CONFIG}: model_config_list[0]: expected an object, got "plain"',
        rejected=("", "model"),
    ),
    Case(
        "missing-name",
        cfg({"config": {"base_path": "plain"}}),
        f'{CONFIG}: model_config_list[0].config: missing required key "name"',
        rejected=("", "model"),
    ),
    Case(
        "name-not-string",
        cfg(model(5, "plain")),  # type: ignore[arg-type]
        f"{CONFIG}: model_config_list[0].config.name: expected a non-empty string, got 5",
        rejected=("", "model"),
    ),
    Case(
        "unknown-key-in-config",
        cfg(model("a", "plain", basepath="x")),
        f"{CONFIG}: model_config_list[0].config.basepath: unknown key (expected one of: {MODEL_KEYS})",
        rejected=("a", "model"),
    ),
    Case(
        "nireq-negative",
        cfg(model("a", "plain", nireq=-1)),
        f"{CONFIG}: model_config_list[0].config.nireq: expected an integer >= 0, got -1",
        rejected=("a", "model"),
    ),
    Case(
        "nireq-string",
        cfg(model("a", "plain"), model("b", "plain", nireq="two")),
        f'{CONFIG}: model_config_list[1].config.nireq: expected an integer >= 0, got "two"',
        rejected=("b", "model"),
    ),
    Case(
        "nireq-bool",
        cfg(model("a", "plain", nireq=True)),
        f"{CONFIG}: model_config_list[0].config.nireq: expected an integer >= 0, got true",
        rejected=("a", "model"),
    ),
    Case(
        "plugin-config-nested",
        cfg(model("a", "plain", plugin_config={"NUM_STREAMS": {"n": 1}})),
        f"{CONFIG}: model_config_list[0].config.plugin_config.NUM_STREAMS: "
        "expected a string, boolean or number, got an object",
        rejected=("a", "model"),
    ),
    Case(
        "plugin-config-not-object",
        cfg(model("a", "plain", plugin_config='{"NUM_STREAMS": 1}')),
        "model_config_list[0].config.plugin_config: expected an object, got",
        rejected=("a", "model"),
    ),
    Case(
        "policy-two-kinds",
        cfg(model("a", "plain", model_version_policy={"latest": {"num_versions": 1}, "all": {}})),
        f"{CONFIG}: model_config_list[0].config.model_version_policy: "
        'expected exactly one of "latest", "specific", "all", got keys "latest", "all"',
        rejected=("a", "model"),
    ),
    Case(
        "policy-unknown-kind",
        cfg(model("a", "plain", model_version_policy={"newest": {}})),
        'model_version_policy: expected exactly one of "latest", "specific", "all", got keys "newest"',
        rejected=("a", "model"),
    ),
    Case(
        "policy-num-versions-zero",
        cfg(model("a", "plain", model_version_policy={"latest": {"num_versions": 0}})),
        f"{CONFIG}: model_config_list[0].config.model_version_policy.latest.num_versions: "
        "expected an integer >= 1, got 0",
        rejected=("a", "model"),
    ),
    Case(
        "policy-specific-empty",
        cfg(model("a", "plain", model_version_policy={"specific": {"versions": []}})),
        f"{CONFIG}: model_config_list[0].config.model_version_policy.specific.versions: "
        "expected a non-empty array of integers >= 1, got []",
        rejected=("a", "model"),
    ),
    Case(
        "policy-specific-zero",
        cfg(model("a", "plain", model_version_policy={"specific": {"versions": [1, 0]}})),
        "model_version_policy.specific.versions[1]: expected an integer >= 1, got 0",
        rejected=("a", "model"),
    ),
    Case(
        "policy-all-with-key",
        cfg(model("a", "plain", model_version_policy={"all": {"num_versions": 2}})),
        "model_version_policy.all.num_versions: unknown key (expected one of: )",
        rejected=("a", "model"),
    ),
    Case(
        "removed-stateful-key",
        cfg(model("a", "plain", stateful=True)),
        f"{CONFIG}: model_config_list[0].config.stateful: was removed in OVMS 2026.3",
        rejected=("a", "model"),
    ),
    Case(
        "cli-only-key",
        cfg(model("a", "plain", mean="[0,0,0]")),
        "model_config_list[0].config.mean: is only a command-line flag in OVMS",
        rejected=("a", "model"),
    ),
    Case(
        "custom-loader-options",
        cfg(model("a", "plain", custom_loader_options={"loader_name": "x"})),
        "model_config_list[0].config.custom_loader_options: custom loaders are not supported by ovserve",
        rejected=("a", "model"),
    ),
    Case(
        "batch-size-word",
        cfg(model("a", "plain", batch_size="many")),
        'model_config_list[0].config.batch_size: expected an integer >= 0 or "auto", got "many"',
        rejected=("a", "model"),
    ),
    Case(
        "shape-bad-dimension",
        cfg(model("a", "plain", shape={"input_ids": [1, "x"]})),
        'model_config_list[0].config.shape.input_ids[1]: expected an integer >= 0, got "x"',
        rejected=("a", "model"),
    ),
    Case(
        "target-device-not-string",
        cfg(model("a", "plain", target_device=["CPU"])),
        "model_config_list[0].config.target_device: expected a string, got an array",
        rejected=("a", "model"),
    ),
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


def load_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case) -> Path:
    write_tree(tmp_path, {**BASE, **case.files})
    monkeypatch.chdir(tmp_path)  # so that messages name the file as the operator wrote it
    return Path(case.config)


@pytest.mark.parametrize("case", FILE_LEVEL, ids=[c.id for c in FILE_LEVEL])
def test_file_level_problem_raises_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    config = load_case(tmp_path, monkeypatch, case)
    with pytest.raises(ConfigError) as info:
        read_workspace(config)
    assert case.message in str(info.value)
    assert str(info.value).startswith(case.config)


@pytest.mark.parametrize("case", ENTRY_LEVEL, ids=[c.id for c in ENTRY_LEVEL])
def test_entry_level_problem_disables_only_that_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    assert case.rejected is not None
    workspace = read_workspace(load_case(tmp_path, monkeypatch, case))
    name, kind = case.rejected
    matching = [r for r in workspace.rejected if case.message in r.message]
    assert matching, "\n".join(r.message for r in workspace.rejected)
    assert (matching[0].name, matching[0].kind) == (name, kind)
    assert matching[0].message.startswith(("models/", "models\\"))
    rejected_names = {r.name for r in workspace.rejected}
    assert set(case.also_rejected) <= rejected_names
    assert "good" in {m.name for m in workspace.models}, "the valid entry must still load"
    served = {m.origin for m in workspace.all_models()} | {g.origin for g in workspace.graphs}
    assert not served & {r.origin for r in workspace.rejected}, "a rejected entry must not be served"


def test_the_table_is_large_enough() -> None:
    # Acceptance of issue 3 asks for at least 15 malformed workspaces with checked messages.
    assert len(FILE_LEVEL) + len(ENTRY_LEVEL) >= 40
    ids = [c.id for c in FILE_LEVEL + ENTRY_LEVEL]
    assert len(ids) == len(set(ids))
