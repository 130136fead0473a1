"""Read, compile and warm up one model version. Blocking OpenVINO work: worker threads only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openvino as ov

from ovserve.runtime.infer_pool import InferRequestPool, optimal_requests
from ovserve.workspace import ModelSpec

_MODEL_SUFFIXES = (".xml", ".onnx")
WARMUP_TEXT = "warm-up"


@dataclass(frozen=True, kw_only=True, eq=False)
class LoadedModelVersion:
    """One compiled version of a model; immutable, shared by every request that uses it.

    Compared by identity: a config change can replace version 3 by a new compile of version 3.
    """

    name: str
    version: int
    path: Path
    model: ov.Model
    compiled: ov.CompiledModel
    requests: InferRequestPool
    """Infer requests for direct (KServe/TFS) inference: at most the device's optimal number
    at once, created on demand and reused; more callers wait, as in OVMS's request queue."""


def model_file(version_dir: Path) -> Path:
    """The model file of a version directory: `model.xml` first, else the only *.xml/*.onnx.

    Raises:
        FileNotFoundError: none, or several candidates.
    """
    preferred = version_dir / "model.xml"
    if preferred.is_file():
        return preferred
    found = sorted(p for p in version_dir.iterdir() if p.suffix in _MODEL_SUFFIXES and p.is_file())
    if not found:
        raise FileNotFoundError(f"no model file (*.xml or *.onnx) in {version_dir}")
    if len(found) > 1:
        raise FileNotFoundError(f"several model files in {version_dir}: {', '.join(p.name for p in found)}")
    return found[0]


def load_version(core: ov.Core, spec: ModelSpec, version: int) -> LoadedModelVersion:
    """Read, compile and warm up `<base_path>/<version>`.

    The warm-up (one inference on dummy inputs) makes the first real request as fast as the
    others and proves the version can run before it takes traffic.

    Raises:
        Exception: whatever OpenVINO or the file system raises; the caller records it.
    """
    path = model_file(spec.base_path / str(version))
    model = core.read_model(path)
    compiled = core.compile_model(model, spec.target_device, dict(spec.plugin_config))
    warm_up(compiled)
    return LoadedModelVersion(
        name=spec.name,
        version=version,
        path=path.parent,
        model=model,
        compiled=compiled,
        requests=InferRequestPool(compiled, limit=optimal_requests(compiled)),
    )


def warm_up(compiled: ov.CompiledModel) -> None:
    """One inference with every dynamic dimension set to 1: zeros, or `warm-up` for strings."""
    feed: dict[str, object] = {}
    for port in compiled.inputs:
        shape = [d.get_length() if d.is_static else 1 for d in port.get_partial_shape()]
        element = port.get_element_type()
        if element == ov.Type.string:
            feed[port.get_any_name()] = ov.Tensor(np.full(shape, WARMUP_TEXT, dtype=str))
        else:
            feed[port.get_any_name()] = np.zeros(shape, dtype=element.to_dtype())
    compiled.create_infer_request().infer(feed)
