"""Frozen, validated descriptions of what a workspace asks the server to serve.

Everything here is plain data: built once by `ovserve.workspace.reader`, never mutated, safe to
share between threads and to compare (a reload can diff two `Workspace` values).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

EntryKind = Literal["model", "graph", "pipeline", "custom_node_library", "custom_loader"]


@dataclass(frozen=True, kw_only=True)
class VersionPolicy:
    """OVMS `model_version_policy`: which of the available versions to serve.

    As OVMS documents it (its docs: model_version_policy.md).

    `latest` serves the `num_versions` highest versions, `specific` the listed ones that exist,
    `all` every version found.
    """

    kind: Literal["latest", "specific", "all"] = "latest"
    num_versions: int = 1
    versions: tuple[int, ...] = ()

    def select(self, available: Iterable[int]) -> list[int]:
        """Return the versions to serve, ascending; versions <= 0 and duplicates are dropped."""
        found = sorted({v for v in available if v > 0})
        if self.kind == "all":
            return found
        if self.kind == "specific":
            wanted = set(self.versions)
            return [v for v in found if v in wanted]
        return found[-self.num_versions :] if self.num_versions > 0 else []


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """One plain OpenVINO model servable (a `model_config_list` entry without a graph file).

    `base_path` is absolute and holds numeric version directories (see `scan_versions`); it is not
    guaranteed to still exist when the server reads it. `plugin_config` values are strings, as
    OpenVINO's `compile_model` wants them. `extra` keeps the other accepted OVMS keys (`batch_size`,
    `shape`, `layout`, `allow_cache`) as their raw JSON values; the server decides what it honours.
    """

    name: str
    base_path: Path
    target_device: str = "CPU"
    plugin_config: Mapping[str, str] = field(default_factory=dict)
    version_policy: VersionPolicy = field(default_factory=VersionPolicy)
    nireq: int = 0
    origin: str
    graph: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class GraphSpec:
    """One MediaPipe graph servable: a directory with a graph file and an optional subconfig.

    `models` are the subconfig's models. As in OVMS they are global servables (their names share
    one namespace with every other servable) and must be loaded before the graph.
    """

    name: str
    base_path: Path
    graph_path: Path
    subconfig_path: Path | None
    models: tuple[ModelSpec, ...] = ()
    origin: str


@dataclass(frozen=True, kw_only=True)
class RejectedEntry:
    """An entry that was disabled; `message` names the file, the JSON path and what was expected."""

    name: str
    kind: EntryKind
    origin: str
    message: str


@dataclass(frozen=True, kw_only=True)
class MetricsSettings:
    """The `monitoring.metrics` section; metric names are not checked here (the server does)."""

    enable: bool
    metrics_list: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Workspace:
    """Everything a config file (or the single-model flags) asks for, validated and resolved.

    `root` is absolute. `models` are top-level models only; subconfig models live in their
    `GraphSpec`. `all_models()` lists both, in load order. `warnings` collects harmless oddities
    (ignored keys) the server should log.
    """

    config_path: Path | None
    root: Path
    models: tuple[ModelSpec, ...] = ()
    graphs: tuple[GraphSpec, ...] = ()
    rejected: tuple[RejectedEntry, ...] = ()
    metrics: MetricsSettings | None = None
    warnings: tuple[str, ...] = ()

    def all_models(self) -> tuple[ModelSpec, ...]:
        """Top-level models, then each graph's subconfig models (the order OVMS loads them)."""
        return self.models + tuple(m for g in self.graphs for m in g.models)
