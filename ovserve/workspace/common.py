"""Small pieces shared by the builder and the subconfig reader: where an entry was written, the
internal "disable this entry" signal, and the ModelSpec constructor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ovserve.workspace.entries import ModelFields
from ovserve.workspace.schema import child
from ovserve.workspace.specs import EntryKind, ModelSpec, RejectedEntry


class EntryRejectedError(Exception):
    """Internal: disables the entry being built; `message` is complete (file and JSON path)."""

    def __init__(self, message: str, *, kind: EntryKind | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # set once the entry is known to be a graph


@dataclass(frozen=True, kw_only=True)
class Where:
    """Where an entry was written: display name of its file and JSON path of the entry."""

    display: str
    path: str

    @property
    def origin(self) -> str:
        return f"{self.display}: {self.path}" if self.path else self.display

    def at(self, key: str, message: str) -> EntryRejectedError:
        """The rejection of this entry because of its member `key`."""
        return EntryRejectedError(f"{self.display}: {child(self.path, key)}: {message}")

    def rejected(self, name: str, kind: EntryKind, message: str) -> RejectedEntry:
        return RejectedEntry(name=name, kind=kind, origin=self.origin, message=message)


def require_model_dir(base: Path, prefix: str) -> None:
    """A model's `base_path` must be an existing directory (its versions are scanned later)."""
    if not base.exists():
        raise EntryRejectedError(f"{prefix}: directory {base} does not exist")
    if not base.is_dir():
        raise EntryRejectedError(
            f"{prefix}: {base} is not a directory (expected numeric version sub-directories)"
        )


def model_spec(fields: ModelFields, base: Path, origin: str, *, graph: str | None) -> ModelSpec:
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
