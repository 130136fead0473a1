"""Loads the versions of plain models and answers "which compiled model serves this name?".

Loading is blocking OpenVINO work: call `load` from a worker thread, never on the event loop.
`resolve` and `statuses` are cheap and thread-safe, so front ends and graphs may call them
from anywhere. The manager implements the `ModelResolver` protocol graphs use to reach the
models of their subconfig.json.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import openvino as ov

from ovserve import status
from ovserve.errors import NotFound, Unavailable
from ovserve.status import VersionState, VersionStatus
from ovserve.workspace import ModelSpec, scan_versions

log = logging.getLogger(__name__)

_MODEL_SUFFIXES = (".xml", ".onnx")


@dataclass(frozen=True, kw_only=True)
class LoadedModelVersion:
    """One compiled version of a model; immutable, shared by every request that uses it."""

    name: str
    version: int
    path: Path
    model: ov.Model
    compiled: ov.CompiledModel


def model_file(version_dir: Path) -> Path:
    """The model file of a version directory: `model.xml` first, else the only *.xml/*.onnx."""
    preferred = version_dir / "model.xml"
    if preferred.is_file():
        return preferred
    found = sorted(p for p in version_dir.iterdir() if p.suffix in _MODEL_SUFFIXES and p.is_file())
    if not found:
        raise FileNotFoundError(f"no model file (*.xml or *.onnx) in {version_dir}")
    if len(found) > 1:
        raise FileNotFoundError(f"several model files in {version_dir}: {', '.join(p.name for p in found)}")
    return found[0]


class ModelManager:
    """Owns every loaded model version, keyed by servable name."""

    def __init__(self, core: ov.Core) -> None:
        self._core = core
        self._lock = threading.Lock()
        self._loaded: dict[str, dict[int, LoadedModelVersion]] = {}
        self._statuses: dict[str, dict[int, VersionStatus]] = {}

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._statuses)

    def statuses(self) -> dict[str, list[VersionStatus]]:
        with self._lock:
            return {name: list(versions.values()) for name, versions in self._statuses.items()}

    def mark_loading(self, specs: Sequence[ModelSpec]) -> None:
        """Show every model as LOADING before the (slow) load starts, as OVMS's /v1/config does."""
        with self._lock:
            for spec in specs:
                self._statuses.setdefault(spec.name, {1: status.loading()})

    def load(self, specs: Sequence[ModelSpec]) -> None:
        """Load every version the specs' policies select; failures are recorded, never raised."""
        for spec in specs:
            self._load_spec(spec)

    def _load_spec(self, spec: ModelSpec) -> None:
        versions, warnings = scan_versions(spec.base_path)
        for warning in warnings:
            log.warning("model %s: %s", spec.name, warning)
        results: dict[int, VersionStatus] = {}
        loaded: dict[int, LoadedModelVersion] = {}
        if not versions:
            detail = f"no version directory (an integer > 0) in {spec.base_path}"
            log.error("model %s: %s", spec.name, detail)
            results[1] = status.load_failed(detail)
        wanted = spec.version_policy.select(versions)
        # Highest first, so that a failing newest version falls back to the next one under `latest`.
        candidates = sorted(versions, reverse=True) if spec.version_policy.kind == "latest" else wanted
        target = len(wanted)
        for version in candidates:
            if spec.version_policy.kind == "latest" and len(loaded) >= target:
                break
            try:
                loaded[version] = self._load_version(spec, version)
                results[version] = status.available(version)
                log.info("model %s version %d loaded from %s", spec.name, version, loaded[version].path)
            except Exception as exc:  # any OpenVINO failure disables just this version
                detail = f"version {version}: {exc}".strip()
                log.error("model %s: failed to load %s", spec.name, detail)
                results[version] = status.load_failed(detail, version=version)
        with self._lock:
            self._loaded[spec.name] = loaded
            self._statuses[spec.name] = results

    def _load_version(self, spec: ModelSpec, version: int) -> LoadedModelVersion:
        path = model_file(spec.base_path / str(version))
        model = self._core.read_model(path)
        compiled = self._core.compile_model(model, spec.target_device, dict(spec.plugin_config))
        return LoadedModelVersion(
            name=spec.name, version=version, path=path.parent, model=model, compiled=compiled
        )

    def resolve(self, name: str, version: int | None = None) -> LoadedModelVersion:
        """The requested version, or the highest AVAILABLE one when `version` is None.

        Raises:
            NotFound: no model of that name, or no such version.
            Unavailable: the model or version exists but is not loaded (yet).
        """
        with self._lock:
            statuses = self._statuses.get(name)
            loaded = self._loaded.get(name, {})
        if statuses is None:
            raise NotFound("Model with requested name is not found")
        if version is None:
            if not loaded:
                raise Unavailable("Model with requested version is not loaded yet")
            return loaded[max(loaded)]
        if version in loaded:
            return loaded[version]
        state = statuses.get(version)
        if state is None:
            raise NotFound("Model with requested version is not found")
        if state.state >= VersionState.UNLOADING:
            raise NotFound("Model with requested version is retired")
        raise Unavailable("Model with requested version is not loaded yet")
