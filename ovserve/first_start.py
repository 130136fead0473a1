"""Single-model mode over a Hugging Face folder: export it on first start, then serve the export.

`ovserve --model_name NAME --model_path FOLDER`, where FOLDER is a Hugging Face or
sentence-transformers model folder (a `config.json`, no numbered version directories, no
`graph.pbtxt`), exports the folder once with `ovserve export embeddings`' defaults in the flat
layout (one graph directory, `EmbeddingsCalculatorOV`), then serves that directory as if it
had been given. Progress goes to the log, one line per export step.

The export lives in a cache: `<--cache_dir>/ovserve-exports/` when `--cache_dir` is given,
else `$XDG_CACHE_HOME/ovserve/exports/` (`~/.cache/ovserve/exports/`). Its key is a hash of
the folder's absolute path and every file's relative path, size and modification time, and of
ovserve's version, so a changed folder (or another ovserve) exports again and an unchanged one
starts at once. Exports are written to a staging directory and renamed into place under a
file lock, so two servers started together export once and never serve a half-written one.

Exporting needs the `export` extra (torch, transformers, optimum-intel): without it start-up
stops with exit 1 and a message naming the extra.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from ovserve import __version__
from ovserve.errors import ConfigError, OvserveError, Unavailable

log = logging.getLogger(__name__)

EXPORTS_UNDER_CACHE_DIR = "ovserve-exports"
GRAPH_DIR = "graph"


def is_hugging_face_folder(path: Path) -> bool:
    """True for a folder with a `config.json` that OVMS could not serve as it is."""
    if not path.is_dir() or not (path / "config.json").is_file() or (path / "graph.pbtxt").is_file():
        return False
    return not any(child.is_dir() and child.name.isdigit() for child in path.iterdir())


def exports_root(cache_dir: Path | None) -> Path:
    """Where first-start exports are kept (see the module docstring)."""
    if cache_dir is not None:
        return cache_dir / EXPORTS_UNDER_CACHE_DIR
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ovserve" / "exports"


def fingerprint(folder: Path) -> str:
    """A hash of what the export of `folder` depends on (see the module docstring)."""
    digest = hashlib.sha256(f"{__version__}\0{folder.resolve()}\0".encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]


def exported_graph(folder: Path, cache_dir: Path | None) -> Path:
    """The graph directory of `folder`'s export, exported now if the cache has none. Blocking.

    Raises:
        ConfigError: the export stack is not installed, or the export refused the folder or
            failed (the message says why); nothing half-written is left in the cache.
    """
    root = exports_root(cache_dir)
    target = root / fingerprint(folder)
    graph = target / GRAPH_DIR
    if (graph / "graph.pbtxt").is_file():
        log.info("serving the first-start export of %s from %s", folder, graph)
        return graph
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--model_path {folder}: cannot create the export cache {root}: {exc}") from exc
    with _locked(root / f".{target.name}.lock"):
        if not (graph / "graph.pbtxt").is_file():  # another server may have exported meanwhile
            _export(folder, target)
    return graph


def _export(folder: Path, target: Path) -> None:
    # Deferred: `ovserve.export` is cheap, but what it runs needs the `export` extra.
    from ovserve.export import ExportOptions, export_embeddings

    staging = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    options = ExportOptions(
        source_model=folder,
        model_name=GRAPH_DIR,
        model_repository_path=staging,
        config_file_path=staging / "config.json",
        layout="flat",
    )
    log.info("--model_path %s is a Hugging Face folder: exporting it on first start into %s", folder, target)
    try:
        result = export_embeddings(options, progress=lambda line: log.info("export: %s", line))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except Unavailable as exc:  # the export stack is not installed
        raise ConfigError(
            f"--model_path {folder} is a Hugging Face folder, and exporting it on first start "
            f"needs the export extra: {exc.message}"
        ) from exc
    except OvserveError as exc:
        raise ConfigError(f"--model_path {folder}: exporting it failed: {exc.message}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("exported %s in %.1f s (%s weights)", folder, result.seconds, result.weight_format)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
