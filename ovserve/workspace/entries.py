"""The OVMS config schema: top level, entries, version policy, monitoring.

As OVMS documents it (its docs: starting_server.md, mediapipe.md).

Functions here only check shapes and types and return typed values; they never touch the file
system. They raise `SchemaError` with a JSON path relative to the document root.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ovserve.workspace.schema import (
    SchemaError,
    as_bool,
    as_int,
    as_list,
    as_object,
    as_str,
    check_keys,
    child,
    expected,
)
from ovserve.workspace.specs import EntryKind, MetricsSettings, VersionPolicy

MODEL_KEYS = frozenset(
    {
        "name",
        "base_path",
        "batch_size",
        "shape",
        "layout",
        "nireq",
        "target_device",
        "plugin_config",
        "model_version_policy",
        "allow_cache",
        "custom_loader_options",
        "graph_path",
        "subconfig",
    }
)
GRAPH_ONLY_KEYS = frozenset({"graph_path", "subconfig"})
MEDIAPIPE_KEYS = frozenset({"name", "base_path", "graph_path", "subconfig"})
TOP_LEVEL_KEYS = frozenset(
    {
        "model_config_list",
        "mediapipe_config_list",
        "pipeline_config_list",
        "custom_node_library_config_list",
        "custom_loader_config_list",
        "monitoring",
    }
)
# Sections OVMS accepts that ovserve does not implement: each entry is rejected, not the file.
UNSUPPORTED_SECTIONS: dict[str, tuple[EntryKind, str]] = {
    "pipeline_config_list": ("pipeline", "DAG pipelines are not supported by ovserve"),
    "custom_node_library_config_list": (
        "custom_node_library",
        "custom node libraries are not supported by ovserve",
    ),
    "custom_loader_config_list": ("custom_loader", "custom loaders are not supported by ovserve"),
}

_STATEFUL = "was removed in OVMS 2026.3 (stateful models are not supported)"
_CLI_ONLY = "is only a command-line flag in OVMS, not a config file key"
_MODEL_HINTS = {
    "stateful": _STATEFUL,
    "idle_sequence_cleanup": _STATEFUL,
    "low_latency_transformation": _STATEFUL,
    "max_sequence_number": _STATEFUL,
    "mean": _CLI_ONLY,
    "scale": _CLI_ONLY,
    "color_format": _CLI_ONLY,
    "precision": _CLI_ONLY,
}


@dataclass(frozen=True, kw_only=True)
class ModelFields:
    """A schema-valid `model_config_list[i].config`, paths still as written in the file."""

    name: str
    base_path: str | None  # None when absent or empty
    graph_path: str | None
    subconfig: str | None
    target_device: str = "CPU"
    plugin_config: dict[str, str] = field(default_factory=dict)
    version_policy: VersionPolicy = field(default_factory=VersionPolicy)
    nireq: int = 0
    extra: dict[str, object] = field(default_factory=dict)
    model_only_keys: tuple[str, ...] = ()  # keys that a graph entry ignores


@dataclass(frozen=True, kw_only=True)
class TopLevel:
    """A schema-valid top level: the entry lists are checked to be arrays, not their items."""

    model_items: list[object]
    mediapipe_items: list[object]
    unsupported: dict[str, list[object]]
    metrics: MetricsSettings | None


def parse_top_level(doc: object, *, subconfig: bool = False) -> TopLevel:
    """Check the document root. A subconfig may hold only `model_config_list`."""
    root = as_object(doc, "")
    allowed = {"model_config_list"} if subconfig else TOP_LEVEL_KEYS
    check_keys(root, "", allowed=allowed, required=("model_config_list",))
    # Sorted so that the first reported problem does not depend on set iteration order.
    lists = {key: as_list(root[key], key) for key in sorted(allowed - {"monitoring"}) if key in root}
    monitoring = root.get("monitoring")
    return TopLevel(
        model_items=lists["model_config_list"],
        mediapipe_items=lists.get("mediapipe_config_list", []),
        unsupported={key: lists[key] for key in UNSUPPORTED_SECTIONS if key in lists},
        metrics=None if monitoring is None else parse_monitoring(monitoring, "monitoring"),
    )


def parse_monitoring(value: object, path: str) -> MetricsSettings | None:
    obj = as_object(value, path)
    check_keys(obj, path, allowed=("metrics",))
    if "metrics" not in obj:
        return None
    mpath = child(path, "metrics")
    metrics = as_object(obj["metrics"], mpath)
    check_keys(metrics, mpath, allowed=("enable", "metrics_list"), required=("enable",))
    lpath = child(mpath, "metrics_list")
    names = as_list(metrics.get("metrics_list", []), lpath)
    return MetricsSettings(
        enable=as_bool(metrics["enable"], child(mpath, "enable")),
        metrics_list=tuple(as_str(n, child(lpath, i), nonempty=True) for i, n in enumerate(names)),
    )


def peek_name(item: object, *, wrapped: bool) -> str:
    """Best-effort servable name of a possibly invalid entry, for `RejectedEntry.name`."""
    if wrapped and isinstance(item, dict):
        item = item.get("config")
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) else ""


def parse_model_item(item: object, path: str) -> tuple[ModelFields, str]:
    """Validate a `model_config_list` item; return its fields and the path of its `config`."""
    obj = as_object(item, path)
    if set(obj) != {"config"}:
        keys = ", ".join(json.dumps(k) for k in obj) or "none"
        raise SchemaError(path, f'expected an object with exactly one key "config", got keys {keys}')
    cpath = child(path, "config")
    return parse_model_config(obj["config"], cpath), cpath


def parse_model_config(value: object, path: str) -> ModelFields:
    cfg = as_object(value, path)
    check_keys(cfg, path, allowed=MODEL_KEYS, required=("name",), hints=_MODEL_HINTS)
    if "custom_loader_options" in cfg:
        raise SchemaError(child(path, "custom_loader_options"), "custom loaders are not supported by ovserve")

    def opt_str(key: str) -> str | None:
        text = as_str(cfg[key], child(path, key)) if key in cfg else ""
        return text or None

    extra: dict[str, object] = {}
    if "batch_size" in cfg:
        extra["batch_size"] = _batch_size(cfg["batch_size"], child(path, "batch_size"))
    if "shape" in cfg:
        extra["shape"] = _shape(cfg["shape"], child(path, "shape"))
    if "layout" in cfg:
        extra["layout"] = _layout(cfg["layout"], child(path, "layout"))
    if "allow_cache" in cfg:
        extra["allow_cache"] = as_bool(cfg["allow_cache"], child(path, "allow_cache"))
    policy_path = child(path, "model_version_policy")
    return ModelFields(
        name=as_str(cfg["name"], child(path, "name"), nonempty=True),
        base_path=opt_str("base_path"),
        graph_path=opt_str("graph_path"),
        subconfig=opt_str("subconfig"),
        target_device=opt_str("target_device") or "CPU",
        plugin_config=_plugin_config(cfg.get("plugin_config", {}), child(path, "plugin_config")),
        version_policy=_version_policy(cfg["model_version_policy"], policy_path)
        if "model_version_policy" in cfg
        else VersionPolicy(),
        nireq=as_int(cfg.get("nireq", 0), child(path, "nireq"), minimum=0),
        extra=extra,
        model_only_keys=tuple(k for k in cfg if k not in GRAPH_ONLY_KEYS | {"name", "base_path"}),
    )


def parse_mediapipe_entry(value: object, path: str) -> ModelFields:
    """Validate a `mediapipe_config_list` item into the graph-relevant `ModelFields`."""
    obj = as_object(value, path)
    check_keys(obj, path, allowed=MEDIAPIPE_KEYS, required=("name",))
    texts = {key: as_str(obj[key], child(path, key)) for key in MEDIAPIPE_KEYS if key in obj}
    return ModelFields(
        name=as_str(obj["name"], child(path, "name"), nonempty=True),
        base_path=texts.get("base_path") or None,
        graph_path=texts.get("graph_path") or None,
        subconfig=texts.get("subconfig") or None,
    )


def _plugin_config(value: object, path: str) -> dict[str, str]:
    """OpenVINO properties as strings: bool -> "true"/"false", numbers in their shortest form."""
    result: dict[str, str] = {}
    for key, item in as_object(value, path).items():
        if isinstance(item, bool):
            result[key] = "true" if item else "false"
        elif isinstance(item, int):
            result[key] = str(item)
        elif isinstance(item, float):
            # OpenVINO parses "4" but not "4.0" for integer properties such as NUM_STREAMS.
            result[key] = str(int(item)) if item.is_integer() else repr(item)
        elif isinstance(item, str):
            result[key] = item
        else:
            raise expected(child(path, key), "a string, boolean or number", item)
    return result


def _version_policy(value: object, path: str) -> VersionPolicy:
    obj = as_object(value, path)
    if len(obj) != 1 or next(iter(obj)) not in ("latest", "specific", "all"):
        keys = ", ".join(json.dumps(k) for k in obj) or "none"
        raise SchemaError(path, f'expected exactly one of "latest", "specific", "all", got keys {keys}')
    kind, body_value = next(iter(obj.items()))
    body_path = child(path, kind)
    body = as_object(body_value, body_path)
    if kind == "all":
        check_keys(body, body_path, allowed=())
        return VersionPolicy(kind="all")
    if kind == "latest":
        check_keys(body, body_path, allowed=("num_versions",), required=("num_versions",))
        count = as_int(body["num_versions"], child(body_path, "num_versions"), minimum=1)
        return VersionPolicy(kind="latest", num_versions=count)
    check_keys(body, body_path, allowed=("versions",), required=("versions",))
    vpath = child(body_path, "versions")
    items = as_list(body["versions"], vpath)
    if not items:
        raise SchemaError(vpath, "expected a non-empty array of integers >= 1, got []")
    versions = tuple(as_int(v, child(vpath, i), minimum=1) for i, v in enumerate(items))
    return VersionPolicy(kind="specific", versions=tuple(sorted(set(versions))))


def _batch_size(value: object, path: str) -> int | str:
    if isinstance(value, str) and (value == "auto" or value.isdigit()):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise expected(path, 'an integer >= 0 or "auto"', value)


def _shape(value: object, path: str) -> object:
    """`"(1,128)"` / `"auto"`, a list of dimensions, or an object of those per input name."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [as_int(d, child(path, i), minimum=0) for i, d in enumerate(value)]
    if isinstance(value, dict):
        return {k: _shape_of_input(v, child(path, k)) for k, v in as_object(value, path).items()}
    raise expected(path, "a string, an array of integers or an object", value)


def _shape_of_input(value: object, path: str) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [as_int(d, child(path, i), minimum=0) for i, d in enumerate(value)]
    raise expected(path, "a string or an array of integers", value)


def _layout(value: object, path: str) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {k: as_str(v, child(path, k)) for k, v in as_object(value, path).items()}
    raise expected(path, "a string or an object of strings", value)
