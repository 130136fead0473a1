"""Loads the versions of plain models and answers "which compiled model serves this name?".

Loading is blocking OpenVINO work: call `load`, `sync`, `retire` and `drain` from a worker
thread, never on the event loop (the repository serializes them under its reload lock).
`resolve`, `lease` and `statuses` are cheap and thread-safe, so front ends and graphs may call
them from anywhere. The manager implements the `ModelResolver` protocol graphs use to reach
the models of their subconfig.json.

Swapping a version: the new one is loaded and warmed up while the old one serves; then one
locked assignment makes the new set visible; the old objects are returned to the caller, shown
UNLOADING, and `drain` marks them END once no request holds them (`lease`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import openvino as ov

from ovserve import status
from ovserve.errors import NotFound, Unavailable
from ovserve.models.planning import Snapshot, all_retired, dir_snapshot, statuses_after_sync, wanted_versions
from ovserve.models.version import LoadedModelVersion, load_version, model_file
from ovserve.status import VersionState, VersionStatus
from ovserve.workspace import ModelSpec, scan_versions

__all__ = ["LoadedModelVersion", "ModelManager", "SyncResult", "model_file"]

log = logging.getLogger(__name__)

Settled = Callable[[Path], bool]


@dataclass
class _Model:
    """Mutable bookkeeping of one servable name; guarded by the manager's lock."""

    spec: ModelSpec
    loaded: dict[int, LoadedModelVersion] = field(default_factory=dict)
    statuses: dict[int, VersionStatus] = field(default_factory=dict)
    # Versions that failed, with their directory listing then: retried only once it changes.
    failed: dict[int, Snapshot] = field(default_factory=dict)
    retired: bool = False


@dataclass(frozen=True)
class SyncResult:
    """What a `sync` changed: whether the served set differs, and the objects it replaced."""

    changed: bool
    released: tuple[LoadedModelVersion, ...] = ()


class ModelManager:
    """Owns every loaded model version, keyed by servable name."""

    def __init__(self, core: ov.Core) -> None:
        self._core = core
        self._lock = threading.Condition()
        self._models: dict[str, _Model] = {}
        self._leases: dict[LoadedModelVersion, int] = {}

    # -- queries (any thread) ----------------------------------------------------------------

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._models)

    def statuses(self) -> dict[str, list[VersionStatus]]:
        with self._lock:
            return {name: list(m.statuses.values()) for name, m in self._models.items()}

    def served(self, name: str) -> tuple[LoadedModelVersion, ...]:
        """The objects serving `name` now, by ascending version (empty when none)."""
        with self._lock:
            model = self._models.get(name)
            return tuple(model.loaded[v] for v in sorted(model.loaded)) if model else ()

    def resolve(self, name: str, version: int | None = None) -> LoadedModelVersion:
        """The requested version, or the highest AVAILABLE one when `version` is None.

        Raises:
            NotFound: no model of that name, no such version, or it is retired.
            Unavailable: the model or version exists but is not loaded (yet).
        """
        with self._lock:
            return self._resolve_locked(name, version)

    @contextlib.contextmanager
    def lease(self, name: str, version: int | None = None) -> Iterator[LoadedModelVersion]:
        """`resolve`, and keep the version from being marked END until the block exits.

        Raises as `resolve`.
        """
        with self._lock:
            loaded = self._resolve_locked(name, version)
            self._leases[loaded] = self._leases.get(loaded, 0) + 1
        try:
            yield loaded
        finally:
            with self._lock:
                self._leases[loaded] -= 1
                if not self._leases[loaded]:
                    del self._leases[loaded]
                    self._lock.notify_all()

    def _resolve_locked(self, name: str, version: int | None) -> LoadedModelVersion:
        model = self._models.get(name)
        if model is None:
            raise NotFound("Model with requested name is not found")
        if version is None:
            if model.loaded:
                return model.loaded[max(model.loaded)]
            if model.retired or all_retired(model.statuses.values()):
                raise NotFound("Model with requested version is retired")
            raise Unavailable("Model with requested version is not loaded yet")
        if version in model.loaded:
            return model.loaded[version]
        state = model.statuses.get(version)
        if state is None:
            raise NotFound("Model with requested version is not found")
        if state.state >= VersionState.UNLOADING:
            raise NotFound("Model with requested version is retired")
        raise Unavailable("Model with requested version is not loaded yet")

    # -- changes (worker thread, one at a time) ----------------------------------------------

    def mark_loading(self, specs: Sequence[ModelSpec]) -> None:
        """Show every new model as LOADING before the (slow) load starts, as OVMS's /v1/config does."""
        with self._lock:
            for spec in specs:
                if spec.name not in self._models:
                    self._models[spec.name] = _Model(spec=spec, statuses={1: status.loading()})

    def load(self, specs: Sequence[ModelSpec]) -> None:
        """Start-up: load every version the specs' policies select; failures are recorded, never raised."""
        for spec in specs:
            self.sync(spec, lambda _path: True)

    def sync(self, spec: ModelSpec, settled: Settled, *, reload_all: bool = False) -> SyncResult:
        """Bring `spec.name` in line with its version directories and policy.

        New versions load (highest first; a failure drops that version and re-applies the policy,
        so `latest` falls back); versions the policy no longer selects are replaced. A version
        directory is considered only once `settled(path)` says its copy has finished.
        `reload_all` recompiles every served version (the model's settings changed).
        Blocking. Never raises for a model problem; returns the replaced objects for `drain`.
        """
        versions, warnings = scan_versions(spec.base_path)
        for warning in warnings:
            log.warning("model %s: %s", spec.name, warning)
        with self._lock:
            model = self._models.setdefault(spec.name, _Model(spec=spec))
            before = dict(model.loaded)
            failed = dict(model.failed)
        current = {} if reload_all else dict(before)
        base = spec.base_path
        # A failed version is retried only when its directory changed since the failure.
        failed = {
            v: snap for v, snap in failed.items() if v in versions and dir_snapshot(base / str(v)) == snap
        }
        candidates = [v for v in versions if v in current or settled(base / str(v))]
        while True:
            missing = [
                v for v in wanted_versions(spec.version_policy, candidates, failed) if v not in current
            ]
            if not missing:
                break
            for version in sorted(missing, reverse=True):
                self._set_status(spec.name, status.loading(version))
                try:
                    current[version] = load_version(self._core, spec, version)
                    log.info("model %s version %d loaded from %s", spec.name, version, current[version].path)
                except Exception as exc:  # any OpenVINO or file failure disables just this version
                    detail = f"version {version}: {exc}".strip()
                    log.error("model %s: failed to load %s", spec.name, detail)
                    if version in before:  # a recompile failed: the running object keeps serving
                        current[version] = before[version]
                        continue
                    failed[version] = dir_snapshot(base / str(version))
                    self._set_status(spec.name, status.load_failed(detail, version=version))
        serve = {v: current[v] for v in wanted_versions(spec.version_policy, candidates, failed)}
        released = tuple(obj for obj in {*before.values(), *current.values()} if obj not in serve.values())
        with self._lock:
            model.spec, model.retired, model.failed = spec, False, failed
            model.loaded = serve
            model.statuses = statuses_after_sync(
                model.statuses, serve, failed, released, pending=bool(versions), base_path=base
            )
        for obj in released:
            log.info("model %s version %d replaced; unloading", obj.name, obj.version)
        return SyncResult(changed=serve != before, released=released)

    def retire(self, name: str) -> tuple[LoadedModelVersion, ...]:
        """Stop serving `name` (removed from the config); its versions go UNLOADING, then END in `drain`."""
        with self._lock:
            model = self._models.get(name)
            if model is None:
                return ()
            released = tuple(model.loaded.values())
            unloading = {o.version for o in released}
            model.loaded, model.failed, model.retired = {}, {}, True
            model.statuses = {
                v: VersionStatus(
                    version=v, state=VersionState.UNLOADING if v in unloading else VersionState.END
                )
                for v in model.statuses
            }
        log.info("model %s retired", name)
        return released

    def drain(self, released: Sequence[LoadedModelVersion], timeout: float = 30.0) -> None:
        """Wait (up to `timeout` s) until no request holds `released`, then mark them END.

        Blocking. A version number that is served again (by a newer object) keeps its status.
        """
        with self._lock:
            if not self._lock.wait_for(lambda: not any(o in self._leases for o in released), timeout):
                log.warning("models released with requests still in flight")
            for obj in released:
                model = self._models.get(obj.name)
                if model is None or obj.version in model.loaded:
                    continue
                if model.statuses.get(obj.version, status.loading()).state == VersionState.UNLOADING:
                    model.statuses[obj.version] = VersionStatus(version=obj.version, state=VersionState.END)
                    log.info("model %s version %d unloaded", obj.name, obj.version)

    def _set_status(self, name: str, value: VersionStatus) -> None:
        with self._lock:
            self._models[name].statuses[value.version] = value
