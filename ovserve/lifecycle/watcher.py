"""The file-system watcher: one reload pass every `--file_system_poll_wait_seconds`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Protocol

from ovserve.lifecycle.reload import ReloadError, ReloadOutcome

log = logging.getLogger(__name__)

# A new version directory gets its second look this long after the first, inside the same pass,
# instead of one poll later: a finished copy starts loading within one poll period. A copy that
# pauses longer than this between files may be tried early; its load then fails (or its listing
# changes) and it is retried once the directory changes again, so it is never served half-written.
SETTLE_PAUSE_SECONDS = 0.25


class Reloadable(Protocol):
    def reload(self, *, pause: float = 0.0, retry_failed_config: bool = True) -> ReloadOutcome: ...


class Watcher:
    """An asyncio task that polls; every pass runs on a worker thread, never on the loop.

    The pass and the `/v1/config/reload` endpoint share the repository's reload lock, so they
    never overlap. A failing pass is logged and the next poll tries again.
    """

    def __init__(self, reloader: Reloadable, period: float) -> None:
        self._reloader = reloader
        self.period = period
        self._task: asyncio.Task[None] | None = None
        self._pass: asyncio.Future[ReloadOutcome] | None = None

    def start(self, after: Awaitable[object] | None = None) -> None:
        """Start polling (on the running loop) once `after` (the start-up load) is done; 0 = off."""
        if self.period > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(after), name="ovserve-watcher")

    async def _run(self, after: Awaitable[object] | None) -> None:
        if after is not None:
            with contextlib.suppress(Exception):
                await after
        while True:
            await asyncio.sleep(self.period)
            # Shielded: a pass holds the reload lock on its thread; stop() waits for it instead.
            pause = min(SETTLE_PAUSE_SECONDS, self.period / 4)
            self._pass = asyncio.ensure_future(
                asyncio.to_thread(self._reloader.reload, pause=pause, retry_failed_config=False)
            )
            try:
                await asyncio.shield(self._pass)
            except asyncio.CancelledError:
                raise
            except ReloadError:
                pass  # already logged by the reloader, once per broken file content
            except Exception:
                log.exception("file system poll failed; retrying at the next poll")

    async def stop(self) -> None:
        """Stop polling and wait for a pass in progress to finish."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self._pass is not None:
            with contextlib.suppress(Exception):
                await self._pass
        self._task = None
