"""Single-model mode's check of `--model_path`, before anything loads.

OVMS serves a directory of numbered versions (`1/model.xml`) or a graph directory
(`graph.pbtxt`). A folder that is neither, a Hugging Face or sentence-transformers folder
would otherwise start, answer ready and serve nothing; it stops start-up (exit 1) with a
message naming what is missing. (A Hugging Face folder is exported on first start before this
check, see `ovserve.first_start`.)
"""

from __future__ import annotations

from pathlib import Path

from ovserve.errors import ConfigError


def check_model_path(model_path: Path) -> None:
    """Raises `ConfigError` when `model_path` is not a directory OVMS could serve."""
    if not model_path.is_dir():
        raise ConfigError(f"--model_path {model_path}: not a directory")
    if (model_path / "graph.pbtxt").is_file():
        return
    if any(child.is_dir() and child.name.isdigit() for child in model_path.iterdir()):
        return
    missing = "no numbered version directory (1/, 2/, …) and no graph.pbtxt"
    raise ConfigError(f"--model_path {model_path}: {missing}, so there is nothing to serve")
