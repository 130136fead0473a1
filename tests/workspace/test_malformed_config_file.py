"""Malformed config files: missing, unreadable, not JSON or YAML, or a wrong top level.

Each case makes `read_workspace` raise one `ConfigError` whose message starts with the file's
name. The size check of the whole table (these cases and the entry-level ones) is here too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ovserve.errors import ConfigError
from ovserve.workspace import read_workspace
from tests.workspace.malformed import CONFIG, Case, load_case
from tests.workspace.test_malformed_entry_fields import ENTRY_FIELDS
from tests.workspace.test_malformed_entry_resolution import ENTRY_RESOLUTION

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

ENTRY_LEVEL = ENTRY_FIELDS + ENTRY_RESOLUTION
"""Every entry-level case, from the two modules that run them."""


@pytest.mark.parametrize("case", FILE_LEVEL, ids=[c.id for c in FILE_LEVEL])
def test_file_level_problem_raises_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    config = load_case(tmp_path, monkeypatch, case)
    with pytest.raises(ConfigError) as info:
        read_workspace(config)
    assert case.message in str(info.value)
    assert str(info.value).startswith(case.config)


def test_the_table_is_large_enough() -> None:
    # Acceptance of issue 3 asks for at least 15 malformed workspaces with checked messages.
    assert len(FILE_LEVEL) + len(ENTRY_LEVEL) >= 40
    ids = [c.id for c in FILE_LEVEL + ENTRY_LEVEL]
    assert len(ids) == len(set(ids))
