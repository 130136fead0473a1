"""Malformed model entries, by their own keys and values: the item's shape, its name, unknown,
removed and command-line-only keys, and the type or range of nireq, plugin_config, the version
policy, batch_size, shape and target_device.

Each case disables only that entry (see `malformed.assert_disables_only_that_entry`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workspace.malformed import CONFIG, GOOD, Case, assert_disables_only_that_entry, cfg
from tests.workspace.trees import config_json, model

MODEL_KEYS = (
    "allow_cache, base_path, batch_size, custom_loader_options, graph_path, layout, "
    "model_version_policy, name, nireq, plugin_config, shape, subconfig, target_device"
)

ENTRY_FIELDS = [
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
]


@pytest.mark.parametrize("case", ENTRY_FIELDS, ids=[c.id for c in ENTRY_FIELDS])
def test_entry_level_problem_disables_only_that_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    assert_disables_only_that_entry(tmp_path, monkeypatch, case)
