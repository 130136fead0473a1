"""The process-wide OpenVINO runtime.

`openvino_tokenizers` must be imported before a `Core` is created: the import patches
`openvino.Core` so every new core knows the tokenizer operations, without which a tokenizer
IR fails to load ("unsupported opset: extension").
"""

from __future__ import annotations

import functools
from pathlib import Path

import openvino as ov
import openvino_tokenizers  # noqa: F401  (registers the tokenizer extension, see module docstring)


@functools.cache
def shared_core(cache_dir: Path | None = None) -> ov.Core:
    """One `ov.Core` per cache directory, shared by every model and graph of the process."""
    core = ov.Core()
    if cache_dir is not None:
        core.set_property({"CACHE_DIR": str(cache_dir)})
    return core
