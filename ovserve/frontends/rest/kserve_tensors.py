"""KServe v2 REST tensors ⇄ `ovserve.types.Tensor`, JSON data and the binary-data extension.

Binary layout (Triton's extension): input and output bytes follow the JSON header in order,
each tensor's length in `parameters.binary_data_size`; numbers are little-endian, BYTES
elements are a 4-byte little-endian length followed by the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ovserve.admission import implausible_shape
from ovserve.errors import InvalidArgument
from ovserve.tensor_codec import element_bytes, raw_contents, split_bytes_elements
from ovserve.types import Tensor, dtype_of

DecodedInputs = tuple[tuple[Tensor, ...], tuple[str, ...], set[str]]


def decode_inputs(body: Mapping[str, object], binary: bytes) -> DecodedInputs:
    """(input tensors, requested output names, outputs wanted as binary).

    Raises:
        InvalidArgument: a malformed tensor, unknown datatype or data that does not fit the shape.
    """
    raw_inputs = body.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise InvalidArgument("inputs field is required and must be a non-empty array")
    offset = 0
    tensors = []
    for item in raw_inputs:
        tensor, offset = _decode_input(item, binary, offset)
        tensors.append(tensor)
    if offset != len(binary):
        raise InvalidArgument("binary data does not match the inputs' binary_data_size")
    parameters = body.get("parameters")
    binary_default = isinstance(parameters, dict) and parameters.get("binary_data_output") is True
    names: list[str] = []
    binary_outputs: set[str] = set()
    raw_outputs = body.get("outputs", [])
    for item in raw_outputs if isinstance(raw_outputs, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidArgument("every requested output needs a name")
        names.append(item["name"])
        params = item.get("parameters")
        wanted = params.get("binary_data", binary_default) if isinstance(params, dict) else binary_default
        if wanted is True:
            binary_outputs.add(item["name"])
    if binary_default and not names:
        binary_outputs.add("*")
    return tuple(tensors), tuple(names), binary_outputs


def _decode_input(item: object, binary: bytes, offset: int) -> tuple[Tensor, int]:
    if not isinstance(item, dict):
        raise InvalidArgument("every input must be an object")
    name, datatype, shape = item.get("name"), item.get("datatype"), item.get("shape")
    if not isinstance(name, str) or not isinstance(datatype, str) or not isinstance(shape, list):
        raise InvalidArgument("every input needs name, datatype and shape")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape) or implausible_shape(
        tuple(shape)
    ):
        raise InvalidArgument(f"input {name}: invalid shape {shape}")
    dtype = dtype_of(datatype)
    if dtype is None:
        raise InvalidArgument(f"input {name}: unsupported datatype {datatype}")
    count = int(np.prod(shape, dtype=np.int64))
    params = item.get("parameters")
    size = params.get("binary_data_size") if isinstance(params, dict) else None
    if size is not None:
        if not isinstance(size, int) or offset + size > len(binary):
            raise InvalidArgument(f"input {name}: binary_data_size exceeds the binary data")
        chunk = binary[offset : offset + size]
        values = _bytes_elements(chunk, name) if datatype == "BYTES" else _numeric_chunk(chunk, dtype, name)
        offset += size
    else:
        values = _json_data(item.get("data"), dtype, datatype, name)
    if values.size != count:
        raise InvalidArgument(f"input {name}: {values.size} values do not fit shape {shape}")
    return Tensor(name=name, datatype=datatype, shape=tuple(shape), data=values.reshape(shape)), offset


def _json_data(
    data: object, dtype: np.dtype[np.generic], datatype: str, name: str
) -> npt.NDArray[np.generic]:
    if not isinstance(data, list):
        raise InvalidArgument(f"input {name}: data must be an array")
    try:
        if datatype == "BYTES":
            flat = np.array(data, dtype=object).ravel()
            return np.array(
                [v.encode() if isinstance(v, str) else _not_bytes(v, name) for v in flat], dtype=object
            )
        # 1e308 as FP32 would silently become inf (numpy only warns): refuse it instead.
        with np.errstate(over="raise", invalid="raise"):
            return np.array(data, dtype=dtype).ravel()
    except FloatingPointError:
        raise InvalidArgument(f"input {name}: values are out of range for {datatype}") from None
    except (TypeError, ValueError, OverflowError):
        raise InvalidArgument(f"input {name}: data does not match datatype {datatype}") from None


def _not_bytes(value: object, name: str) -> bytes:
    raise InvalidArgument(f"input {name}: BYTES data must be strings")


def _numeric_chunk(chunk: bytes, dtype: np.dtype[np.generic], name: str) -> npt.NDArray[np.generic]:
    little = dtype.newbyteorder("<")
    if len(chunk) % little.itemsize:
        raise InvalidArgument(f"input {name}: binary size is not a multiple of the element size")
    return np.frombuffer(chunk, dtype=little).astype(dtype)


def _bytes_elements(chunk: bytes, name: str) -> npt.NDArray[np.generic]:
    items = split_bytes_elements(chunk, name)
    values = np.empty(len(items), dtype=object)
    values[:] = items
    return values


def encode_outputs(outputs: Sequence[Tensor], binary: set[str]) -> tuple[list[dict[str, object]], bytes]:
    """(JSON output objects, concatenated binary data of the outputs asked for as binary)."""
    head: list[dict[str, object]] = []
    tail = bytearray()
    for tensor in outputs:
        entry: dict[str, object] = {
            "name": tensor.name,
            "datatype": tensor.datatype,
            "shape": list(tensor.shape),
        }
        if tensor.name in binary or "*" in binary:
            chunk = raw_contents(tensor)
            entry["parameters"] = {"binary_data_size": len(chunk)}
            tail += chunk
        elif tensor.datatype == "BYTES":
            entry["data"] = [element_bytes(v).decode(errors="replace") for v in tensor.data.ravel()]
        else:
            entry["data"] = tensor.data.ravel().tolist()
        head.append(entry)
    return head, bytes(tail)
