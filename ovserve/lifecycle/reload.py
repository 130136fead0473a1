"""Reload passes: notice what changed on disk, apply it, report it.

As OVMS documents it (its docs: online_config_changes.md).

A pass (1) hashes `config.json` and every graph's `graph.pbtxt` and `subconfig.json`; when a
hash changed it re-reads the workspace (an invalid file changes nothing and raises
`ReloadError` after step 2); (2) applies the workspace and rescans every model's version
directories (`ovserve.lifecycle.apply`). Start-up is the first pass (`Reloader.start`). Passes
are serialized by `Repository.lock`, which the watcher, the reload endpoint, start-up and
shutdown share.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from ovserve.errors import ConfigError, ErrorCode, OvserveError
from ovserve.lifecycle.apply import apply_workspace
from ovserve.lifecycle.build import GraphBuilder
from ovserve.lifecycle.fingerprint import SettleTracker, file_digest
from ovserve.repository import Repository
from ovserve.workspace import Workspace, read_workspace

log = logging.getLogger(__name__)

CONFIG_NOT_FOUND = "Config file not found or cannot open."
CONFIG_FAILED = "Reloading config file failed. Check server logs for more info."
READ_ATTEMPTS = 3
READ_RETRY_SECONDS = 0.01


@dataclass(frozen=True)
class ReloadOutcome:
    """`reloaded`: something was loaded, replaced or retired (OVMS answers 201, else 200)."""

    reloaded: bool


class ReloadError(OvserveError):
    """The config file could not be applied; `code` is FAILED_PRECONDITION (invalid) or INTERNAL."""


def watched_files(workspace: Workspace) -> dict[Path, str]:
    """MD5 of the config file and of every graph's graph and subconfig files."""
    paths: list[Path | None] = [workspace.config_path]
    for graph in workspace.graphs:
        paths += [graph.graph_path, graph.subconfig_path]
    return {p: file_digest(p) for p in paths if p is not None}


class Reloader:
    """Runs the passes of one repository: start-up, then reloads. Both block: worker threads only."""

    def __init__(self, repository: Repository, builder: GraphBuilder) -> None:
        self.lock = repository.lock
        self._repository = repository
        self._builder = builder
        self._digests: dict[Path, str] = {}
        self._failed_digest: str | None = None
        self._settle = SettleTracker()

    def remember(self, workspace: Workspace) -> None:
        """Take `workspace`'s files as the applied baseline (after start-up or a reload)."""
        with self.lock:
            self._digests = watched_files(workspace)
            self._failed_digest = None

    def start(self) -> None:
        """The first pass: load what the repository's workspace configures, then set `ready`.

        Every model and graph shows LOADING until its turn comes, so statuses list them all from
        the start. Failures are recorded per servable, never raised.
        """
        with self.lock:
            repository = self._repository
            if repository.closed:
                return
            workspace = repository.workspace
            repository.models.mark_loading(workspace.all_models())
            for graph in workspace.graphs:
                repository.graphs.loading(graph.name)
            # None: nothing to re-read; every version directory counts as settled at start-up.
            apply_workspace(repository, self._builder, None, set(), lambda _path: True)
            self.remember(workspace)
            repository.ready = True

    def reload(self, *, pause: float = 0.0, retry_failed_config: bool = True) -> ReloadOutcome:
        """One pass. `pause` > 0 settles new version directories within the call (see
        `SettleTracker`); `retry_failed_config` re-reads a config whose content already failed.

        Raises:
            ReloadError: the config file is missing (INTERNAL) or invalid (FAILED_PRECONDITION);
                version changes were still applied.
        """
        with self.lock:
            repository = self._repository
            if repository.closed or not repository.ready:
                # Before the start-up load (it applies the workspace itself) or after shutdown.
                return ReloadOutcome(reloaded=False)
            self._settle.pause = pause
            workspace, forced, error = self._read_workspace(repository.workspace, retry_failed_config)
            reloaded = apply_workspace(repository, self._builder, workspace, forced, self._settle)
            if workspace is not None:
                self.remember(workspace)
            if error is not None:
                raise error
            return ReloadOutcome(reloaded=reloaded)

    def _read_workspace(
        self, current: Workspace, retry_failed: bool
    ) -> tuple[Workspace | None, set[str], ReloadError | None]:
        """The new workspace when a watched file changed (else None), the graphs whose files
        changed, and the error to report when the config cannot be read."""
        config = current.config_path
        if config is None:  # single-model mode: nothing to re-read, versions are still rescanned
            return None, set(), None
        digests = watched_files(current)
        if digests == self._digests:
            return None, set(), None
        if digests[config] == self._failed_digest and not retry_failed:
            return None, set(), None
        if not config.is_file():
            log.error("config reload: %s not found", config)
            self._failed_digest = digests[config]
            return None, set(), ReloadError(CONFIG_NOT_FOUND, code=ErrorCode.INTERNAL)
        try:
            workspace = _read_with_retries(config)
        except ConfigError as exc:
            log.error("config reload failed, nothing changed: %s", exc)
            self._failed_digest = digests[config]
            return None, set(), ReloadError(CONFIG_FAILED, code=ErrorCode.FAILED_PRECONDITION)
        forced = {
            g.name
            for g in current.graphs
            if any(digests.get(p) != self._digests.get(p) for p in (g.graph_path, g.subconfig_path) if p)
        }
        return workspace, forced, None


def _read_with_retries(config: Path) -> Workspace:
    """`read_workspace`, tried 3 times 10 ms apart as OVMS does: an editor may be mid-write.

    Raises:
        ConfigError: the last attempt's error.
    """
    for _ in range(READ_ATTEMPTS - 1):
        try:
            return read_workspace(config)
        except ConfigError:
            time.sleep(READ_RETRY_SECONDS)
    return read_workspace(config)
