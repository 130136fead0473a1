"""Turn a config file, or the single-model flags, into a `Workspace`.

See the package docstring for which problems stop the whole file and which disable one entry.
Nothing here writes to disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ovserve.errors import ConfigError
from ovserve.workspace.builder import WorkspaceBuilder
from ovserve.workspace.entries import parse_top_level
from ovserve.workspace.files import read_document
from ovserve.workspace.paths import absolute
from ovserve.workspace.schema import SchemaError
from ovserve.workspace.specs import Workspace


def read_workspace(config_path: Path) -> Workspace:
    """Load and validate an OVMS `config.json` (or `.yaml`/`.yml`) and everything it points to.

    The root is the directory part of `config_path` as given (the current directory when it has
    none), made absolute, as OVMS does. Messages name the file as given, relative to the
    current directory when the caller passed a relative path.

    Raises:
        ConfigError: a file-level problem: the file cannot be read or parsed, its top level is
            not an object, has an unknown key, lacks `model_config_list`, a section has the wrong
            type, or `monitoring` is invalid. Entry-level problems land in `Workspace.rejected`.
    """
    display = str(config_path)
    root = absolute(config_path.parent)
    doc = read_document(config_path, display)
    try:
        top = parse_top_level(doc)
    except SchemaError as exc:
        raise ConfigError(f"{display}: {exc}") from None
    builder = WorkspaceBuilder(root=root, display_dir=config_path.parent)
    for index, item in enumerate(top.model_items):
        builder.add_model_item(item, index, display=display)
    for index, item in enumerate(top.mediapipe_items):
        builder.add_mediapipe_item(item, index, display=display)
    for section, items in top.unsupported.items():
        for index, item in enumerate(items):
            builder.reject_unsupported(section, item, index, display=display)
    return builder.build(config_path=absolute(config_path), metrics=top.metrics)


def single_model_workspace(
    model_name: str,
    model_path: Path,
    *,
    target_device: str = "CPU",
    plugin_config: Mapping[str, str] | None = None,
) -> Workspace:
    """The workspace of OVMS single-model mode (`--model_name` / `--model_path`).

    `model_path` is a graph directory when it holds `graph.pbtxt` or `1/graph.pbtxt` (its optional
    `subconfig.json` is read as usual), otherwise a model directory with version sub-directories.
    The root is `model_path` itself, so a subconfig cannot point outside it.

    Raises:
        ConfigError: any problem, since there is nothing else to serve; the message names the flag.
    """
    if not model_name:
        raise ConfigError("--model_name: expected a non-empty name")
    text = str(model_path)
    root = absolute(model_path)
    builder = WorkspaceBuilder(root=root, display_dir=model_path)
    builder.add_single(
        name=model_name,
        path_text=text,
        target_device=target_device or "CPU",
        plugin_config=dict(plugin_config or {}),
    )
    workspace = builder.build(config_path=None, metrics=None)
    if workspace.rejected:
        raise ConfigError(workspace.rejected[0].message)
    return workspace
