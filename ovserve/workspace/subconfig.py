"""A graph's `subconfig.json` : only `model_config_list`, paths kept in the graph.

Relative `base_path`s are resolved against the subconfig's directory and, unlike top-level
entries, every path (absolute too) must stay inside the graph directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ovserve.errors import ConfigError
from ovserve.workspace.common import EntryRejectedError, Where, model_spec, require_model_dir
from ovserve.workspace.entries import parse_model_item, parse_top_level, peek_name
from ovserve.workspace.files import read_document
from ovserve.workspace.paths import PathError, resolve_entry_path
from ovserve.workspace.schema import SchemaError, child
from ovserve.workspace.specs import ModelSpec, RejectedEntry

SUBCONFIG_FILE = "subconfig.json"


def find_subconfig(graph_dir: Path, written: str | None, where: Where) -> Path | None:
    """The subconfig file of a graph, or None when the default one is absent (not an error, as in OVMS).

    Raises:
        EntryRejectedError: an explicit `subconfig` that is missing or leaves the graph directory.
    """
    try:
        path = resolve_entry_path(
            written or SUBCONFIG_FILE, graph_dir, boundary=graph_dir, allow_absolute=True
        )
    except PathError as exc:
        raise where.at("subconfig", str(exc)) from None
    if path.is_file():
        return path
    if written:
        raise where.at("subconfig", f"file {path} not found")
    return None


def read_subconfig(
    *,
    graph: str,
    graph_dir: Path,
    path: Path,
    display: str,
    graph_where: Where,
    taken: Mapping[str, str],
) -> tuple[list[ModelSpec], list[RejectedEntry]]:
    """Read the models of one subconfig.

    Args:
        graph: the owning graph's name (it may not be reused by one of its models).
        graph_dir: absolute graph directory; every model path must stay inside it.
        path: absolute subconfig path; display: how messages name it.
        graph_where: where the graph entry was written, for graph-level messages.
        taken: servable names already owned, mapped to a description of their owner.

    Returns:
        (valid models, rejected models), both in file order.

    Raises:
        EntryRejectedError: the subconfig cannot be read or its top level is invalid.
    """
    try:
        top = parse_top_level(read_document(path, display), subconfig=True)
    except ConfigError as exc:
        raise EntryRejectedError(f'{graph_where.origin}: graph "{graph}": {exc}') from None
    except SchemaError as exc:
        raise EntryRejectedError(f'{graph_where.origin}: graph "{graph}": {display}: {exc}') from None
    models: list[ModelSpec] = []
    rejected: list[RejectedEntry] = []
    seen = {graph: f'graph "{graph}" ({graph_where.origin})'}
    for index, item in enumerate(top.model_items):
        where = Where(display=display, path=f"model_config_list[{index}].config")
        try:
            spec = _read_model(item, index, graph, graph_dir, path.parent, where, {**taken, **seen})
        except EntryRejectedError as exc:
            rejected.append(where.rejected(peek_name(item, wrapped=True), "model", exc.message))
            continue
        seen[spec.name] = f'model "{spec.name}" ({spec.origin})'
        models.append(spec)
    return models, rejected


def _read_model(
    item: object,
    index: int,
    graph: str,
    graph_dir: Path,
    sub_dir: Path,
    where: Where,
    taken: Mapping[str, str],
) -> ModelSpec:
    try:
        fields, _ = parse_model_item(item, f"model_config_list[{index}]")
    except SchemaError as exc:
        raise EntryRejectedError(f"{where.display}: {exc}") from None
    if fields.graph_path or fields.subconfig:
        key = "graph_path" if fields.graph_path else "subconfig"
        raise where.at(key, "graphs cannot be nested in a subconfig")
    owner = taken.get(fields.name)
    if owner is not None:
        raise where.at("name", f'"{fields.name}" is already used by {owner}; the first one wins')
    if fields.base_path is None:
        raise where.at("base_path", "required for a model")
    try:
        base = resolve_entry_path(fields.base_path, sub_dir, boundary=graph_dir, allow_absolute=False)
    except PathError as exc:
        raise where.at("base_path", str(exc)) from None
    require_model_dir(base, f"{where.display}: {child(where.path, 'base_path')}")
    return model_spec(fields, base, where.origin, graph=graph)
