"""Workspace loading: the server side of `--config_path` and of `--model_name/--model_path`.

A pure library (no web, RPC or OpenVINO imports; nothing is written to disk) that turns an OVMS
`config.json` (or the same schema as `config.yaml`/`.yml`) into a validated, resolved `Workspace`.

File-level versus entry-level problems. OVMS refuses the whole file on any schema violation; we
are friendlier where it is safe, i.e. where one entry can be dropped without changing what the
others mean:

* `ConfigError` (the server must not start): the file is missing, unreadable or not well-formed
  (JSON/YAML errors give line and column); the top level is not an object, has an unknown key or
  lacks `model_config_list`; a section is not an array; `monitoring` is invalid (it is global).
* `Workspace.rejected` (only that entry is disabled, the rest is served): anything inside one
  entry - unknown keys, wrong types, bad version policy, removed stateful keys, CLI-only keys,
  missing or unusable paths, remote (`s3://`...) paths, missing graph files, a graph whose
  subconfig is unreadable or has an invalid model (the graph and all its models are disabled, so a
  graph never runs with a model missing), duplicate names, and entries of the sections ovserve does
  not implement (`pipeline_config_list`, `custom_node_library_config_list`,
  `custom_loader_config_list`). Every message starts with `<file>: <JSON path>: ` and says what
  was expected.

Names. Models, graphs and subconfig models share one namespace, in file order:
`model_config_list`, then `mediapipe_config_list`; a graph's subconfig models are claimed right
after the graph. The first owner of a name wins; later ones are rejected with a message naming the
owner.

Paths, as OVMS resolves them. Root = directory part of the config path, made absolute. A relative
top-level `base_path` is resolved against it and must stay inside it, lexically (`..`) and after
following symlinks. An absolute top-level `base_path` (and an absolute `graph_path`/`subconfig` of
a top-level entry) is used as is: OVMS allows it and the operator wrote it on purpose. A graph's
files and its subconfig's model paths (relative to the subconfig's directory) must stay inside the
graph directory, absolute or not. When a graph is found as `<base_path>/1/graph.pbtxt` the graph
directory is `<base_path>/1`.
"""

from __future__ import annotations

from ovserve.workspace.reader import read_workspace, single_model_workspace
from ovserve.workspace.specs import (
    EntryKind,
    GraphSpec,
    MetricsSettings,
    ModelSpec,
    RejectedEntry,
    VersionPolicy,
    Workspace,
)
from ovserve.workspace.versions import scan_versions

__all__ = [
    "EntryKind",
    "GraphSpec",
    "MetricsSettings",
    "ModelSpec",
    "RejectedEntry",
    "VersionPolicy",
    "Workspace",
    "read_workspace",
    "scan_versions",
    "single_model_workspace",
]
