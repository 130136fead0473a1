"""Path resolution as OVMS does it, plus the containment rules ovserve adds.

OVMS resolves a relative `base_path` against the directory of the config file, graph files and
subconfigs against the graph's `base_path`, and a subconfig's model paths against the subconfig's
directory. ovserve additionally refuses paths that leave their boundary, lexically (`..`) or
through a symlink, so a workspace cannot make the server read files outside it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class PathError(Exception):
    """A path in a config entry is unusable; the message has no file prefix (the caller adds it)."""


def absolute(path: Path) -> Path:
    """Absolute and normalised (`..` folded) without resolving symlinks, like OVMS's string paths."""
    return Path(os.path.normpath(os.path.abspath(path)))


def resolve_entry_path(text: str, anchor: Path, *, boundary: Path, allow_absolute: bool) -> Path:
    """Resolve a path written in a config entry.

    Args:
        text: the path as written (not empty).
        anchor: absolute directory a relative `text` is resolved against.
        boundary: absolute directory the result must stay inside.
        allow_absolute: when true, an absolute `text` is trusted as is (the operator wrote it on
            purpose, as OVMS allows); when false it must also lie inside `boundary`.

    Returns:
        the absolute, normalised path; symlinks inside the boundary are kept, not expanded.

    Raises:
        PathError: a cloud URL, or a path that leaves `boundary` by `..` or by a symlink.
    """
    if _URL.match(text):
        raise PathError(f'"{text}" is a remote storage URL; remote storage is not supported by ovserve')
    written = Path(text)
    result = absolute(anchor / written)
    if written.is_absolute() and allow_absolute:
        return result
    if not result.is_relative_to(absolute(boundary)):
        raise PathError(f'"{text}" leaves {boundary} (paths must stay inside it)')
    # A symlink anywhere along the path may point elsewhere; compare the real locations too.
    real = result.resolve()
    real_boundary = boundary.resolve()
    if not real.is_relative_to(real_boundary):
        raise PathError(f'"{text}" resolves through a symlink to {real}, outside {real_boundary}')
    return result
