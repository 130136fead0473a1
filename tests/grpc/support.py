"""Request builders and assertions shared by the gRPC tests."""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Sequence
from typing import Any

import grpc
import numpy as np
import numpy.typing as npt
import pytest

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from tests.support.models import DEFAULT_GRAPH_NAME

GRAPH = DEFAULT_GRAPH_NAME
TOKENIZER = f"{GRAPH}_tokenizer_model"
EMBEDDINGS = f"{GRAPH}_embeddings_model"

Input = pb.ModelInferRequest.InferInputTensor


def bytes_raw(items: Sequence[bytes]) -> bytes:
    """KServe raw BYTES encoding: each element prefixed by its 4-byte little-endian length."""
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


def texts_request(
    model: str, texts: Sequence[str], *, raw: bool, **parameters: int | bool | str
) -> pb.ModelInferRequest:
    """A graph request with the BYTES input `input`, raw or as typed `bytes_contents`."""
    encoded = [t.encode() for t in texts]
    tensor = Input(name="input", datatype="BYTES", shape=[len(encoded)])
    request = pb.ModelInferRequest(model_name=model)
    if raw:
        request.raw_input_contents.append(bytes_raw(encoded))
    else:
        tensor.contents.bytes_contents.extend(encoded)
    request.inputs.append(tensor)
    for key, value in parameters.items():
        target = request.parameters[key]
        if isinstance(value, bool):
            target.bool_param = value
        elif isinstance(value, int):
            target.int64_param = value
        else:
            target.string_param = value
    return request


def raw_request(
    model: str,
    tensors: dict[str, tuple[str, npt.NDArray[np.generic]]],
    *,
    model_version: str = "",
    id: str = "",
) -> pb.ModelInferRequest:
    """A request with every input in `raw_input_contents` (name → (datatype, array))."""
    request = pb.ModelInferRequest(model_name=model, model_version=model_version, id=id)
    for name, (datatype, array) in tensors.items():
        request.inputs.append(Input(name=name, datatype=datatype, shape=list(array.shape)))
        request.raw_input_contents.append(
            np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        )
    return request


def output_array(response: pb.ModelInferResponse, name: str) -> npt.NDArray[Any]:
    """Decode the raw output `name` of a response (numeric datatypes and BYTES)."""
    for index, output in enumerate(response.outputs):
        if output.name != name:
            continue
        raw = response.raw_output_contents[index]
        if output.datatype == "BYTES":
            items, offset = [], 0
            while offset < len(raw):
                (length,) = struct.unpack_from("<I", raw, offset)
                items.append(raw[offset + 4 : offset + 4 + length])
                offset += 4 + length
            return np.array(items, dtype=object).reshape(tuple(output.shape))
        dtypes = {
            "FP32": "<f4",
            "FP64": "<f8",
            "FP16": "<f2",
            "INT64": "<i8",
            "INT32": "<i4",
            "INT8": "i1",
            "UINT8": "u1",
            "UINT32": "<u4",
            "UINT64": "<u8",
            "BOOL": "?",
        }
        return np.frombuffer(raw, dtype=dtypes[output.datatype]).reshape(tuple(output.shape))
    raise AssertionError(f"no output {name} in {[o.name for o in response.outputs]}")


async def rpc_error(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    """The error a call ends with (fails the test when it succeeds)."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value
