"""Live changes to a running repository: config reloads, version rescans and the watcher.

* `fingerprint`: content hashes of config files and snapshots of version directories.
* `graphs`: the table of served graphs, with leases so a replaced graph drains before closing.
* `reload`: one reload pass (read config, diff, load, swap, drain), serialized by a lock.
* `watcher`: the asyncio task that runs a pass every `--file_system_poll_wait_seconds`.
"""

from __future__ import annotations

from ovserve.lifecycle.reload import Reloader, ReloadError, ReloadOutcome
from ovserve.lifecycle.watcher import Watcher

__all__ = ["ReloadError", "ReloadOutcome", "Reloader", "Watcher"]
