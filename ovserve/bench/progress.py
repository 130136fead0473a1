"""A dependency-free progress display for the load generator.

On a terminal it redraws one `\\r` line at most ten times a second; otherwise (a log file, CI)
it writes a full line every `interval` seconds, so logs stay short. All output goes to the
given stream (stderr by default) so stdout keeps only the results.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts finished requests out of `total`; call `advance()` from the event loop only."""

    def __init__(
        self,
        total: int,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = 5.0,
        label: str = "requests",
    ) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = enabled and total > 0
        self._tty = self._enabled and self._stream.isatty()
        self._interval = 0.1 if self._tty else interval
        self._label = label
        self._start = time.perf_counter()
        self._last = -self._interval

    def advance(self, *, failed: bool = False) -> None:
        """Record one finished request (failed or not) and redraw when it is time to."""
        self.done += 1
        self.failed += failed
        now = time.perf_counter() - self._start
        if self._enabled and (now - self._last >= self._interval or self.done == self.total):
            self._last = now
            self._draw(now)

    def close(self) -> None:
        """End the `\\r` line on a terminal so that later output starts on a fresh line."""
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()

    def line(self, elapsed: float) -> str:
        """The progress text shown after `elapsed` seconds."""
        width = 30
        filled = width * self.done // self.total if self.total else width
        rate = self.done / elapsed if elapsed > 0 else 0.0
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {self._label} "
            f"{elapsed:5.1f}s {rate:7.1f}/s{failed}"
        )

    def _draw(self, elapsed: float) -> None:
        text = self.line(elapsed)
        self._stream.write(f"\r{text}" if self._tty else f"{text}\n")
        self._stream.flush()
