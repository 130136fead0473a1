"""Assemble validated entries into specs: graph detection, subconfigs, one shared namespace.

`WorkspaceBuilder` is fed entries in file order and keeps the first servable of each name; every
problem of a single entry becomes a `RejectedEntry` whose message starts with
`<file>: <JSON path>: `.
"""

from __future__ import annotations

from pathlib import Path

from ovserve.workspace.common import EntryRejectedError, Where, model_spec, require_model_dir
from ovserve.workspace.entries import (
    UNSUPPORTED_SECTIONS,
    ModelFields,
    parse_mediapipe_entry,
    parse_model_item,
    peek_name,
)
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
from ovserve.workspace.subconfig import find_subconfig, read_subconfig

GRAPH_FILE = "graph.pbtxt"
_SINGLE_ORIGIN = "--model_path"
_REMOTE_PREFIXES = ("s3:/", "gs:/", "az:/", "azfs:/", "azure:/", "http:/", "https:/")


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
        """A `model_config_list` item: a graph when a graph file is found, as OVMS decides, else a model."""
        path = f"model_config_list[{index}]"
        try:
            fields, cpath = parse_model_item(item, path)
        except SchemaError as exc:
            self._reject(peek_name(item, wrapped=True), "model", f"{display}: {path}.config", exc, display)
            return
        where = Where(display=display, path=cpath)
        try:
            self._add_top_level(fields, where)
        except EntryRejectedError as exc:
            self._rejected.append(where.rejected(fields.name, exc.kind or "model", exc.message))

    def add_mediapipe_item(self, item: object, index: int, *, display: str) -> None:
        """A `mediapipe_config_list` item: always a graph, whose graph file must exist."""
        where = Where(display=display, path=f"mediapipe_config_list[{index}]")
        try:
            fields = parse_mediapipe_entry(item, where.path)
        except SchemaError as exc:
            self._reject(peek_name(item, wrapped=False), "graph", where.origin, exc, display)
            return
        try:
            self._check_free(fields.name, where)
            base = self._top_level_base(fields, where)
            found = self._find_graph_file(base, fields, where, required=True)
            assert found is not None  # required=True raises instead
            self._add_graph(fields.name, found, fields.subconfig, where)
        except EntryRejectedError as exc:
            self._rejected.append(where.rejected(fields.name, "graph", exc.message))

    def reject_unsupported(self, section: str, item: object, index: int, *, display: str) -> None:
        kind, reason = UNSUPPORTED_SECTIONS[section]
        name = peek_name(item, wrapped=section == "custom_loader_config_list")
        if not name and isinstance(item, dict) and isinstance(item.get("config"), dict):
            loader = item["config"].get("loader_name")
            name = loader if isinstance(loader, str) else ""
        where = Where(display=display, path=f"{section}[{index}]")
        self._rejected.append(where.rejected(name, kind, f"{where.origin}: {reason}"))

    def add_single(
        self, *, name: str, path_text: str, target_device: str, plugin_config: dict[str, str]
    ) -> None:
        """Single-model mode: `self.root` is the model or graph directory itself."""
        where = Where(display=_SINGLE_ORIGIN, path="")
        origin = f"{_SINGLE_ORIGIN} {path_text}"
        try:
            if path_text.startswith(_REMOTE_PREFIXES):
                raise EntryRejectedError(f"{origin}: remote storage is not supported by ovserve")
            fields = ModelFields(name=name, base_path=None, graph_path=None, subconfig=None)
            found = self._find_graph_file(self.root, fields, where, required=False)
            if found is not None:
                if plugin_config:
                    self._warnings.append(f"{origin}: --plugin_config is ignored for a graph directory")
                self._add_graph(name, found, None, Where(display=origin, path=""))
                return
            require_model_dir(self.root, origin)
        except EntryRejectedError as exc:
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

    def _add_top_level(self, fields: ModelFields, where: Where) -> None:
        self._check_free(fields.name, where)
        base = self._top_level_base(fields, where)
        wants_graph = fields.graph_path is not None or fields.subconfig is not None
        try:
            found = self._find_graph_file(base, fields, where, required=wants_graph)
        except EntryRejectedError as exc:
            exc.kind = "graph" if wants_graph else None
            raise
        if found is not None:
            if fields.model_only_keys:
                keys = ", ".join(fields.model_only_keys)
                self._warnings.append(f"{where.origin}: keys ignored for a graph entry: {keys}")
            try:
                self._add_graph(fields.name, found, fields.subconfig, where)
            except EntryRejectedError as exc:
                exc.kind = "graph"
                raise
            return
        if fields.base_path is None:
            raise where.at(
                "base_path", f"required for a model (no {GRAPH_FILE} in {base}, so this is not a graph)"
            )
        require_model_dir(base, f"{where.display}: {child(where.path, 'base_path')}")
        self._claim(fields.name, f'model "{fields.name}" ({where.origin})')
        self._models.append(model_spec(fields, base, where.origin, graph=None))

    def _top_level_base(self, fields: ModelFields, where: Where) -> Path:
        """`base_path` against the root; absent or empty means `<root>/<name>`, as in OVMS."""
        try:
            if fields.base_path is None:
                # The name becomes a path here, so "../x" or "/x" must not leave the root.
                return resolve_entry_path(fields.name, self.root, boundary=self.root, allow_absolute=False)
            return resolve_entry_path(fields.base_path, self.root, boundary=self.root, allow_absolute=True)
        except PathError as exc:
            raise where.at("name" if fields.base_path is None else "base_path", str(exc)) from None

    def _find_graph_file(
        self, base: Path, fields: ModelFields, where: Where, *, required: bool
    ) -> tuple[Path, Path] | None:
        """(graph file, graph directory) of a would-be graph, or None when it is not a graph.

        The file is `graph_path`, else `graph.pbtxt`, else `1/graph.pbtxt`; the directory is
        `base` except in that last (model-mesh) layout, where the graph lives in `1/`.
        """
        candidates = [fields.graph_path] if fields.graph_path else [GRAPH_FILE, f"1/{GRAPH_FILE}"]
        for text in candidates:
            try:
                path = resolve_entry_path(text, base, boundary=base, allow_absolute=True)
            except PathError as exc:
                raise where.at("graph_path", str(exc)) from None
            if path.is_file():
                return path, (path.parent if text == f"1/{GRAPH_FILE}" else base)
        if not required:
            return None
        if fields.graph_path:
            raise where.at("graph_path", f"graph file {absolute(base / fields.graph_path)} not found")
        message = f"no {GRAPH_FILE} found in {base} or {base / '1'}"
        if fields.base_path:
            raise where.at("base_path", message)
        raise EntryRejectedError(f"{where.origin}: {message}")

    def _add_graph(self, name: str, found: tuple[Path, Path], subconfig: str | None, where: Where) -> None:
        """Read the graph's subconfig; any bad subconfig model disables the whole graph."""
        graph_file, base = found
        sub_path = find_subconfig(base, subconfig, where)
        models: list[ModelSpec] = []
        if sub_path is not None:
            models, rejected = read_subconfig(
                graph=name,
                graph_dir=base,
                path=sub_path,
                display=self._display(sub_path),
                graph_where=where,
                taken=self._owners,
            )
            if rejected:
                # A graph never runs with one of its models missing: disable it and them all.
                self._rejected.extend(rejected)
                raise EntryRejectedError(
                    f'{where.origin}: graph "{name}" disabled: {len(rejected)} invalid model(s) in '
                    f"{self._display(sub_path)} (see their own messages); "
                    "its other models are not served either"
                )
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

    def _check_free(self, name: str, where: Where) -> None:
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
