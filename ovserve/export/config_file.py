"""Add or update one graph entry in an OVMS config file (`config.json` or `config.yaml`).

The entry is written in the 2025.4+ form, `{"config": {"name": N, "base_path": P}}` in
`model_config_list`. An existing entry of the same name, in `model_config_list` or in the legacy
`mediapipe_config_list`, is updated in place instead, so exporting twice never duplicates it.
Every other entry and key is kept as it was. The file is replaced atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml

from ovserve.errors import ConfigError
from ovserve.export.workspace_fs import write_text_atomically

YAML_SUFFIXES = (".yaml", ".yml")
Change = Literal["added", "updated", "unchanged"]


def base_path_for(config_file: Path, graph_dir: Path) -> str:
    """The `base_path` to record: relative to the config file's directory with POSIX slashes, or
    absolute when the graph lies outside that directory (a `..` path would leave the workspace,
    which servers reject)."""
    root = config_file.absolute().parent.resolve()
    target = graph_dir.absolute().resolve()
    if target.is_relative_to(root):
        return target.relative_to(root).as_posix()
    return target.as_posix()


def update_config_file(config_file: Path, graph_name: str, base_path: str) -> Change:
    """Make `config_file` list the graph `graph_name` at `base_path`; create the file if missing.

    Raises:
        ConfigError: the existing file cannot be parsed or does not have the OVMS shape.
        OSError: the file or its directory cannot be written.
    """
    data = _load(config_file)
    change = _upsert(config_file, data, graph_name, base_path)
    if change != "unchanged" or not config_file.exists():
        _dump_atomically(config_file, data)
    return change


def check_config_file(config_file: Path) -> None:
    """Refuse, before any work, a config file that exists but could not be updated.

    Raises:
        ConfigError: it is a directory, unreadable, malformed or not of the OVMS shape.
    """
    if config_file.is_dir():
        raise ConfigError(f"--config_file_path {config_file} is a directory")
    # Dry run on a throw-away copy: the same checks the real update makes.
    _upsert(config_file, _load(config_file), "", "")


def _upsert(config_file: Path, data: dict[str, Any], name: str, base_path: str) -> Change:
    models = _list_section(config_file, data, "model_config_list", create=True)
    legacy = _list_section(config_file, data, "mediapipe_config_list", create=False)
    matches: list[dict[str, Any]] = []
    for index, item in enumerate(models):
        config = item.get("config") if isinstance(item, dict) else None
        if not isinstance(config, dict):
            raise ConfigError(f"{config_file}: model_config_list[{index}].config: expected an object")
        if config.get("name") == name:
            matches.append(config)
    for index, item in enumerate(legacy):
        if not isinstance(item, dict):
            raise ConfigError(f"{config_file}: mediapipe_config_list[{index}]: expected an object")
        if item.get("name") == name:
            matches.append(item)
    if not matches:
        models.append({"config": {"name": name, "base_path": base_path}})
        return "added"
    change: Change = "unchanged"
    for entry in matches:
        if entry.get("base_path") != base_path:
            entry["base_path"] = base_path
            change = "updated"
    return change


def _list_section(config_file: Path, data: dict[str, Any], key: str, *, create: bool) -> list[Any]:
    section = data.get(key)
    if section is None:
        section = []
        if create:
            data[key] = section
    if not isinstance(section, list):
        raise ConfigError(f"{config_file}: {key}: expected a list")
    return section


def _is_yaml(config_file: Path) -> bool:
    return config_file.suffix.lower() in YAML_SUFFIXES


def _load(config_file: Path) -> dict[str, Any]:
    if not config_file.exists():
        return {"model_config_list": []}
    try:
        text = config_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config_file_path {config_file}: cannot read: {exc}") from exc
    if not text.strip():
        return {"model_config_list": []}
    try:
        data = yaml.safe_load(text) if _is_yaml(config_file) else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        kind = "YAML" if _is_yaml(config_file) else "JSON"
        detail = str(exc).replace("\n", " ")
        raise ConfigError(f"--config_file_path {config_file}: not valid {kind}: {detail}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"--config_file_path {config_file}: expected an object at the top level")
    return data


def _dump_atomically(config_file: Path, data: dict[str, Any]) -> None:
    if _is_yaml(config_file):
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(data, indent=4, ensure_ascii=False) + "\n"
    # Written beside the target and renamed, so a server polling the file never reads half of it.
    write_text_atomically(config_file, text)
