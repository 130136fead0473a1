"""What the watcher compares between polls: file hashes and version directory snapshots.

OVMS compares the MD5 of `config.json` and `graph.pbtxt`; ovserve does the same for those and
for `subconfig.json`. A version directory is compared by its listing (relative path, size,
mtime), which is cheap and changes while a copy is still writing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from ovserve.models.planning import Snapshot, dir_snapshot

__all__ = ["SettleTracker", "Snapshot", "always_settled", "dir_snapshot", "file_digest"]


def file_digest(path: Path | None) -> str:
    """MD5 of the file's bytes; "" when `path` is None, "missing" when it cannot be read."""
    if path is None:
        return ""
    try:
        return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    except OSError:
        return "missing"


class SettleTracker:
    """Decides whether a version directory has stopped changing.

    A directory is settled when two looks, one poll apart, see the same non-empty snapshot.
    `pause` > 0 (the reload endpoint, which must answer at once) takes the second look after
    `pause` seconds instead of waiting for the next poll. Called only under the reload lock.
    """

    def __init__(self, pause: float = 0.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self._seen: dict[Path, Snapshot] = {}
        self.pause = pause
        self._sleep = sleep

    def __call__(self, path: Path) -> bool:
        first = dir_snapshot(path)
        previous = self._seen.get(path)
        self._seen[path] = first
        if first and previous == first:
            return True
        if self.pause <= 0:
            return False
        self._sleep(self.pause)
        second = dir_snapshot(path)
        self._seen[path] = second
        return bool(second) and second == first


def always_settled(path: Path) -> bool:
    """The start-up rule: every directory present when the server starts is loaded at once."""
    return True
