"""KServe v2 protobuf tensors ↔ neutral `ovserve.types.Tensor`.

Requests may carry every input either in `raw_input_contents` (one little-endian, row-major
buffer per input; BYTES elements each prefixed by a 4-byte little-endian length) or in the
typed `contents` field matching the datatype, never a mix. Responses always use
`raw_output_contents`, as OVMS and Triton do: it is what `tritonclient` decodes for every
datatype, and it avoids a per-element protobuf list for large FP32 outputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.admission import implausible_shape
from ovserve.errors import InvalidArgument
from ovserve.tensor_codec import raw_contents, split_bytes_elements
from ovserve.types import Tensor, dtype_of

InputTensor = pb.ModelInferRequest.InferInputTensor

# The typed `contents` field that carries each datatype (FP16 has none: it must be raw).
CONTENTS_FIELD: dict[str, str] = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def decode_inputs(request: pb.ModelInferRequest) -> tuple[Tensor, ...]:
    """Every input of `request` as a neutral tensor, validated against its shape and datatype.

    Raises:
        InvalidArgument: unknown datatype, negative dimension, mixed or missing contents,
            or a size that does not match the shape.
    """
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise InvalidArgument(
            f"raw_input_contents has {len(raw)} entries but the request has {len(request.inputs)} inputs"
        )
    names = [tensor.name for tensor in request.inputs]
    if len(set(names)) != len(names):
        raise InvalidArgument("Duplicate input names in the request")
    if raw:
        return tuple(_from_raw(tensor, content) for tensor, content in zip(request.inputs, raw, strict=True))
    return tuple(_from_contents(tensor) for tensor in request.inputs)


def _checked_shape(tensor: InputTensor) -> tuple[int, ...]:
    shape = tuple(int(d) for d in tensor.shape)
    if any(d < 0 for d in shape) or implausible_shape(shape):
        raise InvalidArgument(f"Invalid shape of input {tensor.name}: {list(shape)}")
    if dtype_of(tensor.datatype) is None:
        raise InvalidArgument(f"Invalid datatype {tensor.datatype!r} of input {tensor.name}")
    return shape


def _from_raw(tensor: InputTensor, content: bytes) -> Tensor:
    shape = _checked_shape(tensor)
    if tensor.HasField("contents"):
        raise InvalidArgument(
            f"Input {tensor.name} has typed contents, but the request uses raw_input_contents"
        )
    count = math.prod(shape)
    if tensor.datatype == "BYTES":
        data = _split_bytes(tensor.name, content, count)
    else:
        dtype = dtype_of(tensor.datatype)
        assert dtype is not None  # checked by _checked_shape
        expected = count * dtype.itemsize
        if len(content) != expected:
            raise InvalidArgument(
                f"Invalid content size of input {tensor.name} - Expected: {expected} bytes; "
                f"Actual: {len(content)} bytes"
            )
        data = np.frombuffer(content, dtype=dtype.newbyteorder("<")).astype(dtype, copy=False)
    return Tensor(name=tensor.name, datatype=tensor.datatype, shape=shape, data=data.reshape(shape))


def _split_bytes(name: str, content: bytes, count: int) -> npt.NDArray[np.object_]:
    items = split_bytes_elements(content, name)
    if len(items) != count:
        raise InvalidArgument(
            f"Invalid number of elements in input {name} - Expected: {count}; Actual: {len(items)}"
        )
    data = np.empty(count, dtype=object)
    data[:] = items
    return data


def _from_contents(tensor: InputTensor) -> Tensor:
    shape = _checked_shape(tensor)
    field = CONTENTS_FIELD.get(tensor.datatype)
    if field is None:
        raise InvalidArgument(
            f"Input {tensor.name} of datatype {tensor.datatype} must use raw_input_contents"
        )
    values: Sequence[object] = getattr(tensor.contents, field)
    count = math.prod(shape)
    if len(values) != count:
        raise InvalidArgument(
            f"Invalid number of elements in input {tensor.name} - Expected: {count}; Actual: {len(values)}"
        )
    dtype = dtype_of(tensor.datatype)
    assert dtype is not None
    if tensor.datatype == "BYTES":
        data = np.empty(count, dtype=object)
        data[:] = list(values)
    else:
        wide = np.asarray(values)
        data = wide.astype(dtype)
        # int_contents / uint_contents are 32-bit on the wire; narrower types must fit.
        if dtype.kind in "iu" and wide.size and not np.array_equal(data.astype(wide.dtype), wide):
            raise InvalidArgument(f"Values of input {tensor.name} are out of range for {tensor.datatype}")
    return Tensor(name=tensor.name, datatype=tensor.datatype, shape=shape, data=data.reshape(shape))


def encode_output(tensor: Tensor) -> tuple[pb.ModelInferResponse.InferOutputTensor, bytes]:
    """The response entry and the raw bytes of one output tensor."""
    output = pb.ModelInferResponse.InferOutputTensor(
        name=tensor.name, datatype=tensor.datatype, shape=list(tensor.shape)
    )
    return output, raw_contents(tensor)


def parameter_value(parameter: pb.InferParameter) -> bool | int | str | None:
    """The value of a KServe parameter; None when it holds a kind this protocol does not define."""
    kind = parameter.WhichOneof("parameter_choice")
    if kind is None:
        return None
    value: bool | int | str = getattr(parameter, kind)
    return value


def encode_parameter(target: pb.InferParameter, value: object) -> None:
    """Set `target` from a bool, int or str; anything else is sent as its string form."""
    if isinstance(value, bool):
        target.bool_param = value
    elif isinstance(value, int):
        target.int64_param = value
    else:
        target.string_param = str(value)


def decode_parameters(parameters: Mapping[str, pb.InferParameter]) -> dict[str, object]:
    """Request parameters as plain values; a parameter of an unknown kind becomes None."""
    return {key: parameter_value(value) for key, value in parameters.items()}
