"""Log format and level for the server process."""

from __future__ import annotations

import logging
from pathlib import Path

# OVMS's TRACE is finer than DEBUG; Python has no such level, so it maps to DEBUG.
_LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING}


def configure_logging(level: str, path: Path | None = None) -> None:
    """Log to stderr (and `path`) with timestamps, level and logger name."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if path is not None:
        handlers.append(logging.FileHandler(path))
    logging.basicConfig(
        level=_LEVELS.get(level, logging.ERROR),
        format="[%(asctime)s][%(levelname)s][%(name)s] %(message)s",
        handlers=handlers,
        force=True,
    )
