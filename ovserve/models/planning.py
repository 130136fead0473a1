"""Which versions of a model to serve, given what is on disk and what failed,
and the statuses that result. Pure functions, plus a cheap directory listing."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from ovserve import status
from ovserve.models.version import LoadedModelVersion
from ovserve.status import VersionState, VersionStatus
from ovserve.workspace import VersionPolicy


def wanted_versions(policy: VersionPolicy, candidates: Iterable[int], failed: Collection[int]) -> list[int]:
    """The versions `policy` selects once failed ones are dropped, ascending.

    Dropping failed versions before applying `latest N` is OVMS's fallback: when the newest
    version cannot load, the next one is served instead.
    """
    return policy.select(v for v in candidates if v not in failed)


Snapshot = tuple[tuple[str, int, int], ...]


def dir_snapshot(path: Path) -> Snapshot:
    """(relative path, size, mtime_ns) of every file below `path`, sorted; () when unreadable.

    Cheap, and it changes while a copy into the directory is still writing.
    """
    entries: list[tuple[str, int, int]] = []
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = Path(root) / name
            try:
                st = full.stat()
            except OSError:  # removed between listing and stat: the directory is still moving
                continue
            entries.append((str(full.relative_to(path)), st.st_size, st.st_mtime_ns))
    return tuple(sorted(entries))


def all_retired(statuses: Iterable[VersionStatus]) -> bool:
    """True when there are statuses and every one is UNLOADING or END."""
    values = list(statuses)
    return bool(values) and all(s.state >= VersionState.UNLOADING for s in values)


def statuses_after_sync(
    old: dict[int, VersionStatus],
    serve: dict[int, LoadedModelVersion],
    failed: dict[int, Snapshot],
    released: Sequence[LoadedModelVersion],
    *,
    pending: bool,
    base_path: Path,
) -> dict[int, VersionStatus]:
    """The statuses after a sync: retired history, then failures, unloading, and served versions.

    `pending`: version directories exist but none settled yet (shown as LOADING).
    """
    result = {v: s for v, s in old.items() if s.state >= VersionState.UNLOADING}
    for version in failed:
        result[version] = old.get(version) or status.load_failed(f"version {version} failed", version=version)
    for obj in released:
        if obj.version not in serve:
            result[obj.version] = VersionStatus(version=obj.version, state=VersionState.UNLOADING)
    for version in serve:
        result[version] = status.available(version)
    if not result:
        # Nothing on disk yet, or only directories still being copied.
        missing = f"no version directory (an integer > 0) in {base_path}"
        result[1] = status.loading() if pending else status.load_failed(missing)
    return result
