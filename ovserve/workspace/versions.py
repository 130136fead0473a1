"""Version directories of a model (OVMS docs: models_repository.md).

A version is a sub-directory of the model's `base_path` whose name is a decimal integer > 0.
Whether it holds a model file (`*.xml`, `*.onnx`, ...) is not checked here: an empty version
directory is still listed, and loading it fails later with its own error, as in OVMS.
"""

from __future__ import annotations

from pathlib import Path


def scan_versions(base_path: Path, *, boundary: Path | None = None) -> tuple[list[int], list[str]]:
    """List the version directories of `base_path`.

    Args:
        base_path: the model directory; read only, never written.
        boundary: when given, a version directory whose real location (after symlinks) is outside
            it is ignored with a warning.

    Returns:
        (versions ascending, warnings). Sub-directories that are not integers > 0 (`abc`, `0`,
        `-1`, `01`) are ignored with a warning naming them; plain files are ignored silently,
        since model directories routinely hold READMEs and the like.

    Raises:
        nothing: a missing or unreadable `base_path` gives no versions and one warning.
    """
    try:
        children = sorted(base_path.iterdir())
    except OSError as exc:
        return [], [f"{base_path}: cannot list version directories ({exc.strerror or exc})"]
    versions: list[int] = []
    warnings: list[str] = []
    real_boundary = boundary.resolve() if boundary is not None else None
    for entry in children:
        if not entry.is_dir():
            continue
        name = entry.name
        # Only canonical decimal names: "01" and "+1" would alias "1" and make two dirs one version.
        if not (name.isascii() and name.isdigit() and name == str(int(name)) and int(name) > 0):
            warnings.append(f"{entry}: ignored, a version directory name must be an integer > 0")
            continue
        if real_boundary is not None and not entry.resolve().is_relative_to(real_boundary):
            warnings.append(f"{entry}: ignored, it resolves through a symlink to outside {real_boundary}")
            continue
        versions.append(int(name))
    return sorted(versions), warnings
