"""Assemble validated entries into specs: graph detection, subconfigs, one shared namespace.

`WorkspaceBuilder` is fed entries in file order and keeps the first servable of each name; every
problem of a single entry becomes a `RejectedEntry` whose message starts with
`<file>: <JSON path>: `.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ovserve.errors import ConfigError
from ovserve.workspace.entries import (
    UNSUPPORTED_SECTIONS,
    ModelFields,
    parse_mediapipe_entry,
    parse_model_item,
    parse_top_level,
    peek_name,
)
from ovserve.workspace.files import read_document
from ovserve.workspace.paths import PathError, absolute, resolve_entry_path
from ovserve.workspace.schema import SchemaError, child
from ovserve.workspace.specs import (
    EntryKind,
    GraphSpec,
    MetricsSettings,
    ModelSpec,
    RejectedEntry,
    Workspace,
)

GRAPH_FILE = "graph.pbtxt"
SUBCONFIG_FILE = "subconfig.json"
_SINGLE_ORIGIN = "--model_path"
_REMOTE_PREFIXES = ("s3:/", "gs:/", "az:/", "azfs:/", "azure:/", "http:/", "https:/")


class _EntryRejectedError(Exception):
    """Internal: disables the entry being built; `message` is complete (file and JSON path)."""

    def __init__(self, message: str, *, kind: EntryKind | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # set once the entry is known to be a graph


@dataclass(frozen=True, kw_only=True)
class _Where:
    """Where an entry was written: display name of its file and JSON path of the entry."""

    display: str
    path: str

    @property
    def origin(self) -> str:
        return f"{self.display}: {self.path}" if self.path else self.display

    def at(self, key: str, message: str) -> _EntryRejectedError:
        return _EntryRejectedError(f"{self.display}: {child(self.path, key)}: {message}")


class WorkspaceBuilder:
    """Collects specs and rejections for one workspace; not thread-safe, used once."""

    def __init__(self, *, root: Path, display_dir: Path) -> None:
        self.root = root
        self._display_dir = display_dir
        self._owners: dict[str, str] = {}  # servable name -> "graph "x" (origin)" of its owner
        self._models: list[ModelSpec] = []
        self._graphs: list[GraphSpec] = []
        self._rejected: list[RejectedEntry] = []
        self._warnings: list[str] = []

    def build(self, *, config_path: Path | None, metrics: MetricsSettings | None) -> Workspace:
        return Workspace(
            config_path=config_path,
            root=self.root,
            models=tuple(self._models),
            graphs=tuple(self._graphs),
            rejected=tuple(self._rejected),
            metrics=metrics,
            warnings=tuple(self._warnings),
        )

    # -- entry points, one per kind of entry ------------------------------------------------

    def add_model_item(self, item: object, index: int, *, display: str) -> None:
        """A `model_config_list` item: a graph when a graph file is found (§1.1), else a model."""
        path = f"model_config_list[{index}]"
        try:
            fields, cpath = parse_model_item(item, path)
        except SchemaError as exc:
            self._reject(peek_name(item, wrapped=True), "model", f"{display}: {path}.config", exc, display)
            return
        where = _Where(display=display, path=cpath)
        try:
            self._add_top_level(fields, where)
        except _EntryRejectedError as exc:
            self._rejected.append(_entry(fields.name, exc.kind or "model", where, exc.message))

    def add_mediapipe_item(self, item: object, index: int, *, display: str) -> None:
        """A `mediapipe_config_list` item: always a graph, whose graph file must exist (§1.2)."""
        where = _Where(display=display, path=f"mediapipe_config_list[{index}]")
        try:
            fields = parse_mediapipe_entry(item, where.path)
        except SchemaError as exc:
            self._reject(peek_name(item, wrapped=False), "graph", where.origin, exc, display)
            return
        try:
            self._check_free(fields.name, where)
            base = self._top_level_base(fields, where)
            graph_file = self._find_graph_file(base, fields, where, required=True)
            assert graph_file is not None  # required=True never returns None
            self._add_graph(fields.name, graph_file, fields.subconfig, where)
        except _EntryRejectedError as exc:
            self._rejected.append(_entry(fields.name, "graph", where, exc.message))

    def reject_unsupported(self, section: str, item: object, index: int, *, display: str) -> None:
        kind, reason = UNSUPPORTED_SECTIONS[section]
        name = peek_name(item, wrapped=section == "custom_loader_config_list")
        if not name and isinstance(item, dict) and isinstance(item.get("config"), dict):
            loader = item["config"].get("loader_name")
            name = loader if isinstance(loader, str) else ""
        where = _Where(display=display, path=f"{section}[{index}]")
        self._rejected.append(_entry(name, kind, where, f"{where.origin}: {reason}"))

    def add_single(
        self, *, name: str, path_text: str, target_device: str, plugin_config: dict[str, str]
    ) -> None:
        """Single-model mode: `self.root` is the model or graph directory itself."""
        where = _Where(display=_SINGLE_ORIGIN, path="")
        origin = f"{_SINGLE_ORIGIN} {path_text}"
        try:
            if path_text.startswith(_REMOTE_PREFIXES):
                raise _EntryRejectedError(f"{origin}: remote storage is not supported by ovserve")
            fields = ModelFields(name=name, base_path=None, graph_path=None, subconfig=None)
            graph_file = self._find_graph_file(self.root, fields, where, required=False)
            if graph_file is not None:
                if plugin_config:
                    self._warnings.append(f"{origin}: --plugin_config is ignored for a graph directory")
                self._add_graph(name, graph_file, None, _Where(display=origin, path=""))
                return
            self._require_model_dir(self.root, origin)
        except _EntryRejectedError as exc:
            self._rejected.append(RejectedEntry(name=name, kind="model", origin=origin, message=exc.message))
            return
        self._models.append(
            ModelSpec(
                name=name,
                base_path=self.root,
                target_device=target_device,
                plugin_config=plugin_config,
                origin=origin,
            )
        )

    # -- building blocks ------------------------------------------------------------------------

    def _add_top_level(self, fields: ModelFields, where: _Where) -> None:
        self._check_free(fields.name, where)
        base = self._top_level_base(fields, where)
        wants_graph = fields.graph_path is not None or fields.subconfig is not None
        try:
            graph_file = self._find_graph_file(base, fields, where, required=wants_graph)
        except _EntryRejectedError as exc:
            exc.kind = "graph" if wants_graph else None
            raise
        if graph_file is not None:
            if fields.model_only_keys:
                keys = ", ".join(fields.model_only_keys)
                self._warnings.append(f"{where.origin}: keys ignored for a graph entry: {keys}")
            try:
                self._add_graph(fields.name, graph_file, fields.subconfig, where)
            except _EntryRejectedError as exc:
                exc.kind = "graph"
                raise
            return
        if fields.base_path is None:
            raise where.at(
                "base_path", f"required for a model (no {GRAPH_FILE} in {base}, so this is not a graph)"
            )
        self._require_model_dir(base, f"{where.display}: {child(where.path, 'base_path')}")
        self._claim(fields.name, f'model "{fields.name}" ({where.origin})')
        self._models.append(_model_spec(fields, base, where.origin, graph=None))

    def _top_level_base(self, fields: ModelFields, where: _Where) -> Path:
        """`base_path` against the root; absent or empty means `<root>/<name>` (§1.2)."""
        try:
            if fields.base_path is None:
                # The name becomes a path here, so "../x" or "/x" must not leave the root.
                return resolve_entry_path(fields.name, self.root, boundary=self.root, allow_absolute=False)
            return resolve_entry_path(fields.base_path, self.root, boundary=self.root, allow_absolute=True)
        except PathError as exc:
            raise where.at("name" if fields.base_path is None else "base_path", str(exc)) from None

    def _find_graph_file(
        self, base: Path, fields: ModelFields, where: _Where, *, required: bool
    ) -> Path | None:
        """The graph file of a would-be graph: `graph_path`, else `graph.pbtxt`, else `1/graph.pbtxt`."""
        candidates = [fields.graph_path] if fields.graph_path else [GRAPH_FILE, f"1/{GRAPH_FILE}"]
        for text in candidates:
            try:
                path = resolve_entry_path(text, base, boundary=base, allow_absolute=True)
            except PathError as exc:
                raise where.at("graph_path", str(exc)) from None
            if path.is_file():
                return path
        if not required:
            return None
        if fields.graph_path:
            raise where.at("graph_path", f"graph file {absolute(base / fields.graph_path)} not found")
        message = f"no {GRAPH_FILE} found in {base} or {base / '1'}"
        if fields.base_path:
            raise where.at("base_path", message)
        raise _EntryRejectedError(f"{where.origin}: {message}")

    def _add_graph(self, name: str, graph_file: Path, subconfig: str | None, where: _Where) -> None:
        """Read the graph's subconfig; any bad subconfig model disables the whole graph."""
        base = graph_file.parent  # for the `1/graph.pbtxt` layout the graph lives in `1/`
        sub_path = self._subconfig_path(base, subconfig, where)
        models: list[ModelSpec] = []
        if sub_path is not None:
            models = self._subconfig_models(name, base, sub_path, where)
        self._claim(name, f'graph "{name}" ({where.origin})')
        for model in models:
            self._claim(model.name, f'model "{model.name}" of graph "{name}" ({model.origin})')
        self._graphs.append(
            GraphSpec(
                name=name,
                base_path=base,
                graph_path=graph_file,
                subconfig_path=sub_path,
                models=tuple(models),
                origin=where.origin,
            )
        )

    def _subconfig_path(self, base: Path, subconfig: str | None, where: _Where) -> Path | None:
        try:
            path = resolve_entry_path(subconfig or SUBCONFIG_FILE, base, boundary=base, allow_absolute=True)
        except PathError as exc:
            raise where.at("subconfig", str(exc)) from None
        if path.is_file():
            return path
        if subconfig:  # only the default subconfig may be absent (§1.2)
            raise where.at("subconfig", f"file {path} not found")
        return None

    def _subconfig_models(self, graph: str, base: Path, sub_path: Path, where: _Where) -> list[ModelSpec]:
        display = self._display(sub_path)
        try:
            top = parse_top_level(read_document(sub_path, display), subconfig=True)
        except ConfigError as exc:
            raise _EntryRejectedError(f'{where.origin}: graph "{graph}": {exc}') from None
        except SchemaError as exc:
            raise _EntryRejectedError(f'{where.origin}: graph "{graph}": {display}: {exc}') from None
        models: list[ModelSpec] = []
        failures = 0
        seen = {graph: f'graph "{graph}" ({where.origin})'}
        for index, item in enumerate(top.model_items):
            sub_where = _Where(display=display, path=f"model_config_list[{index}].config")
            try:
                model = self._subconfig_model(item, index, graph, base, sub_path.parent, sub_where, seen)
            except _EntryRejectedError as exc:
                failures += 1
                name = peek_name(item, wrapped=True)
                self._rejected.append(_entry(name, "model", sub_where, exc.message))
                continue
            seen[model.name] = f'model "{model.name}" ({model.origin})'
            models.append(model)
        if failures:
            raise _EntryRejectedError(
                f'{where.origin}: graph "{graph}" disabled: {failures} invalid model(s) in {display}'
                " (see their own messages); its other models are not served either"
            )
        return models

    def _subconfig_model(
        self,
        item: object,
        index: int,
        graph: str,
        base: Path,
        sub_dir: Path,
        where: _Where,
        seen: dict[str, str],
    ) -> ModelSpec:
        try:
            fields, _ = parse_model_item(item, f"model_config_list[{index}]")
        except SchemaError as exc:
            raise _EntryRejectedError(f"{where.display}: {exc}") from None
        if fields.graph_path or fields.subconfig:
            raise where.at(
                "graph_path" if fields.graph_path else "subconfig", "graphs cannot be nested in a subconfig"
            )
        owner = seen.get(fields.name) or self._owners.get(fields.name)
        if owner is not None:
            raise where.at("name", f'"{fields.name}" is already used by {owner}; the first one wins')
        if fields.base_path is None:
            raise where.at("base_path", "required for a model")
        try:
            model_base = resolve_entry_path(fields.base_path, sub_dir, boundary=base, allow_absolute=False)
        except PathError as exc:
            raise where.at("base_path", str(exc)) from None
        self._require_model_dir(model_base, f"{where.display}: {child(where.path, 'base_path')}")
        return _model_spec(fields, model_base, where.origin, graph=graph)

    def _require_model_dir(self, base: Path, prefix: str) -> None:
        if not base.exists():
            raise _EntryRejectedError(f"{prefix}: directory {base} does not exist")
        if not base.is_dir():
            raise _EntryRejectedError(
                f"{prefix}: {base} is not a directory (expected numeric version sub-directories)"
            )

    def _check_free(self, name: str, where: _Where) -> None:
        owner = self._owners.get(name)
        if owner is not None:
            raise where.at("name", f'"{name}" is already used by {owner}; the first one wins')

    def _claim(self, name: str, owner: str) -> None:
        # Callers have checked that the name is free; setdefault keeps the first owner regardless.
        self._owners.setdefault(name, owner)

    def _display(self, path: Path) -> str:
        """How messages name a file: under the config's directory as the user wrote it, if possible."""
        if path.is_relative_to(self.root):
            return str(self._display_dir / path.relative_to(self.root))
        return str(path)

    def _reject(self, name: str, kind: EntryKind, origin: str, exc: SchemaError, display: str) -> None:
        self._rejected.append(RejectedEntry(name=name, kind=kind, origin=origin, message=f"{display}: {exc}"))


def _entry(name: str, kind: EntryKind, where: _Where, message: str) -> RejectedEntry:
    return RejectedEntry(name=name, kind=kind, origin=where.origin, message=message)


def _model_spec(fields: ModelFields, base: Path, origin: str, *, graph: str | None) -> ModelSpec:
    return ModelSpec(
        name=fields.name,
        base_path=base,
        target_device=fields.target_device,
        plugin_config=dict(fields.plugin_config),
        version_policy=fields.version_policy,
        nireq=fields.nireq,
        origin=origin,
        graph=graph,
        extra=dict(fields.extra),
    )
