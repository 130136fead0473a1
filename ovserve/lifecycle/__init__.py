"""The control loop over the repository: start-up, config reloads, version rescans, the watcher.

* `apply`: one pass from the served workspace to a new one; every swap is decided there.
* `build`: loading one graph (factory, recorded models, warm-up).
* `fingerprint`: content hashes of config files and snapshots of version directories.
* `reload`: `Reloader`, start-up (the first pass) and reload passes (read config, apply),
  serialized by the repository's lock.
* `watcher`: the asyncio task that runs a pass every `--file_system_poll_wait_seconds`.
"""

from __future__ import annotations

from ovserve.lifecycle.build import GraphBuilder
from ovserve.lifecycle.reload import Reloader, ReloadError, ReloadOutcome
from ovserve.lifecycle.watcher import Watcher

__all__ = ["GraphBuilder", "ReloadError", "ReloadOutcome", "Reloader", "Watcher"]
