"""The access log shared by both front ends: one JSON line per request, logger `ovserve.access`.

A line is logged when the event-loop iteration that finished its request is over, together
with the other lines of that iteration, rather than inside the request's own callback. Why:
the line cost the REST loop ~45 µs per request under W2 (`--no-access_log` against the
default) when the logging machinery (record, format, handlers) ran between requests; run
back to back for the ~32 requests a merged batch answers in one iteration, it cost 11-45 µs
less per request on REST and 22-84 µs less on gRPC (benchmarks/README.md). Each line keeps
the time its request finished (`asctime`) and lines keep their order. Off an event loop
(tests, tools) a line is logged at once; lines a closed loop never wrote go with the next
loop's, or at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import time
from collections.abc import Mapping

import orjson

access_log = logging.getLogger("ovserve.access")


class _Pending:
    """Lines waiting for the end of their loop iteration. One per process: loops in other
    threads share it (appends and the swap in `write` are atomic under the GIL), and a write
    on any loop takes every line held, so a line never waits for a loop that no longer runs."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, Mapping[str, object]]] = []
        self.scheduled_on: asyncio.AbstractEventLoop | None = None

    def add(self, loop: asyncio.AbstractEventLoop, fields: Mapping[str, object]) -> None:
        self.lines.append((time.time(), fields))
        if self.scheduled_on is not loop:  # a loop closed with the callback queued never runs it
            self.scheduled_on = loop
            loop.call_soon(self.write)

    def write(self) -> None:
        self.scheduled_on = None
        lines, self.lines = self.lines, []
        for created, fields in lines:
            _log(fields, created)


_pending = _Pending()
# Lines of a loop's last iteration, when it closes without running their write: logged at exit
# (before `logging.shutdown`, which atexit runs later since logging registered it earlier).
atexit.register(_pending.write)


def enabled() -> bool:
    """Whether an access line would be logged now (the logger's level and its parents')."""
    return access_log.isEnabledFor(logging.INFO)


def log_request(fields: Mapping[str, object]) -> None:
    """Log `fields` as one JSON line at INFO, at the end of this loop iteration (see the module
    docstring); callers check `enabled` first so that they build `fields` only when needed."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        _log(fields, time.time())
        return
    _pending.add(loop, fields)


def _log(fields: Mapping[str, object], created: float) -> None:
    record = access_log.makeRecord(
        access_log.name, logging.INFO, __file__, 0, "%s", (orjson.dumps(fields).decode(),), None
    )
    # The time the request finished, not the time the line was written (documented attributes).
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0
    access_log.handle(record)
