"""File-system side of an export: refusals before work starts, atomic installs after.

Installs move finished directories into place with `os.rename` (atomic within a file system)
and move replaced ones aside into the staging directory first, so a polling server sees
either the old or the new version directory, never a partial one.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from ovserve.errors import ConfigError
from ovserve.export import layouts
from ovserve.export.options import ExportOptions

_OVERWRITE_HINT = "pass --overwrite_models to replace it"


def check_targets(options: ExportOptions) -> None:
    """Refuse an existing target without `overwrite_models`, a layout clash, or an unwritable path.

    Raises:
        ConfigError: one line naming the path and the reason.
    """
    graph_dir = options.graph_dir
    for path in (options.model_repository_path, graph_dir):
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{path} exists and is not a directory")
    if options.layout == "versioned":
        for kind in (layouts.EMBEDDINGS_DIR, layouts.TOKENIZER_DIR):
            target = graph_dir / kind / str(options.version)
            if target.exists() and not options.overwrite_models:
                raise ConfigError(f"{target} already exists; {_OVERWRITE_HINT}")
        if (graph_dir / layouts.FLAT_MODEL_XML).exists() and not options.overwrite_models:
            raise ConfigError(f"{graph_dir} holds a flat-layout export; {_OVERWRITE_HINT}")
    elif graph_dir.is_dir() and any(graph_dir.iterdir()) and not options.overwrite_models:
        raise ConfigError(f"{graph_dir} already exists; {_OVERWRITE_HINT}")
    check_writable(graph_dir)
    check_writable(options.config_file.absolute().parent)


def check_writable(path: Path) -> None:
    """Refuse unless `path`, or its nearest existing ancestor, accepts a new file.

    A probe file is created rather than trusting `os.access`, which says yes to root even on
    read-only mounts and pseudo file systems.

    Raises:
        ConfigError: an ancestor is a file, or the directory cannot be written.
    """
    probe_dir = path.absolute()
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise ConfigError(f"cannot create {path}: {probe_dir} is not a directory")
    try:
        with tempfile.TemporaryFile(dir=probe_dir):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot write to {probe_dir}: {exc.strerror or exc}") from exc


def install_versioned(ir_dir: Path, graph_dir: Path, version: int, staging: Path) -> None:
    """Move `ir_dir/{tokenizer,embeddings}` to `graph_dir/{tokenizer,embeddings}/<version>`.

    A flat-layout directory at `graph_dir` (allowed only with overwrite) is moved aside whole.
    """
    if (graph_dir / layouts.FLAT_MODEL_XML).exists():
        _move(graph_dir, staging / "replaced-graph")
    for kind in (layouts.TOKENIZER_DIR, layouts.EMBEDDINGS_DIR):
        target = graph_dir / kind / str(version)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            _move(target, staging / f"replaced-{kind}")
        _move(ir_dir / kind, target)


def install_flat(ir_dir: Path, graph_dir: Path, staging: Path) -> None:
    """Make `ir_dir` become `graph_dir`, moving an existing `graph_dir` aside first."""
    graph_dir.parent.mkdir(parents=True, exist_ok=True)
    if graph_dir.exists():
        _move(graph_dir, staging / "replaced-graph")
    _move(ir_dir, graph_dir)


def write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _move(origin: Path, destination: Path) -> None:
    try:
        os.rename(origin, destination)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # Another file system (e.g. a symlinked sub-directory): copying is the best we can do.
        shutil.move(str(origin), str(destination))
