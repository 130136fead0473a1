"""Plain (non-graph) model versions served directly over KServe/TFS: metadata and inference.

Framework-free, like the data plane that calls it: tensors in and out are `ovserve.types.Tensor`.
"""

from __future__ import annotations

import time

import numpy as np
import openvino as ov

from ovserve.errors import InvalidArgument
from ovserve.graph import request_scope
from ovserve.models.version import LoadedModelVersion
from ovserve.types import ModelMetadata, Tensor, TensorSpec, datatype_of, dtype_of


def model_metadata_of(loaded: LoadedModelVersion, versions: tuple[str, ...]) -> ModelMetadata:
    """KServe metadata of a compiled model: the first tensor name of every port, -1 for dynamic dims."""
    return ModelMetadata(
        name=loaded.name,
        versions=versions,
        platform="OpenVINO",
        inputs=tuple(_port_spec(p) for p in loaded.compiled.inputs),
        outputs=tuple(_port_spec(p) for p in loaded.compiled.outputs),
    )


def _port_spec(port: ov.ConstOutput) -> TensorSpec:
    shape = tuple(d.get_length() if d.is_static else -1 for d in port.get_partial_shape())
    return TensorSpec(name=port.get_any_name(), datatype=_ov_datatype(port.get_element_type()), shape=shape)


def _ov_datatype(element: ov.Type) -> str:
    if element == ov.Type.string:
        return "BYTES"
    try:
        return datatype_of(np.dtype(element.to_dtype()))
    except (RuntimeError, TypeError):
        return "INVALID"


def run_model(
    loaded: LoadedModelVersion, inputs: tuple[Tensor, ...], wanted: tuple[str, ...]
) -> tuple[Tensor, ...]:
    """Run one inference on one of the version's pooled infer requests. Blocking: call from a
    worker thread. Within a client request, the wait for an infer request is reported as queue
    time and the inference as inference time (`ovserve.graph.request_scope`).

    Raises:
        InvalidArgument: inputs do not match the model's (OVMS texts), or an unknown output.
    """
    compiled = loaded.compiled
    expected = {p.get_any_name(): p for p in compiled.inputs}
    given = {t.name: t for t in inputs}
    if set(given) - set(expected) or set(expected) - set(given):
        raise InvalidArgument(
            f"Invalid number of inputs - Expected: {len(expected)}; Actual: {len(given)}"
            if len(given) != len(expected)
            else "Required input not found in request: " + ", ".join(sorted(set(expected) - set(given)))
        )
    feed: dict[str, object] = {}
    for name, port in expected.items():
        tensor = given[name]
        want = _ov_datatype(port.get_element_type())
        if tensor.datatype != want:
            raise InvalidArgument(f"Invalid input precision - Expected: {want}; Actual: {tensor.datatype}")
        feed[name] = _to_ov(tensor)
    outputs = {p.get_any_name(): p for p in compiled.outputs}
    unknown = [n for n in wanted if n not in outputs]
    if unknown:
        raise InvalidArgument(f"Output not found in model: {unknown[0]}")
    scope = request_scope.current()

    def waited(seconds: float) -> None:
        if scope is not None:
            scope.queue_s += seconds

    names = wanted or tuple(outputs)
    with loaded.requests.request(waited) as infer_request:
        started = time.perf_counter()
        try:
            infer_request.infer(feed)
        except RuntimeError as exc:
            raise InvalidArgument(f"Inference failed: {str(exc).splitlines()[0]}") from exc
        finally:
            if scope is not None:
                scope.inference_s += time.perf_counter() - started
        # Copies: the request's output memory is reused by the next caller.
        values = [np.array(infer_request.get_tensor(outputs[name]).data, copy=True) for name in names]
    out = []
    for name, value in zip(names, values, strict=True):
        if value.dtype.kind in "SU":
            value = np.array(
                [v.encode() if isinstance(v, str) else v for v in value.ravel()], dtype=object
            ).reshape(value.shape)
        out.append(Tensor(name=name, datatype=datatype_of(value.dtype), shape=tuple(value.shape), data=value))
    return tuple(out)


def _to_ov(tensor: Tensor) -> object:
    if tensor.datatype == "BYTES":
        try:
            texts = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in tensor.data.ravel()]
        except UnicodeDecodeError:
            raise InvalidArgument(f"input {tensor.name} must hold UTF-8 strings") from None
        return ov.Tensor(np.array(texts, dtype=str).reshape(tensor.shape))
    dtype = dtype_of(tensor.datatype)
    return np.ascontiguousarray(tensor.data, dtype=dtype)
