"""Which versions of a model to serve, given what is on disk and what failed (reference §2)."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from pathlib import Path

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
