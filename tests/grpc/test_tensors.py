"""The protobuf tensor codec on its own: both encodings, every datatype, malformed inputs."""

from __future__ import annotations

import numpy as np
import pytest

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.errors import InvalidArgument
from ovserve.frontends.grpc.kserve_v2 import parse_version
from ovserve.frontends.grpc.tensors import (
    CONTENTS_FIELD,
    decode_inputs,
    decode_parameters,
    encode_output,
    encode_parameter,
)
from ovserve.types import Tensor, dtype_of
from tests.grpc.support import Input, bytes_raw

NUMERIC = [d for d in CONTENTS_FIELD if d != "BYTES"] + ["FP16"]


def _values(datatype: str) -> np.ndarray:
    dtype = dtype_of(datatype)
    assert dtype is not None
    if datatype == "BOOL":
        return np.array([[True, False, True], [False, True, True]])
    return np.array([[0, 1, 2], [3, 4, 5]]).astype(dtype)


@pytest.mark.parametrize("datatype", NUMERIC)
def test_raw_contents_decode_with_shape_and_dtype(datatype: str) -> None:
    values = _values(datatype)
    request = pb.ModelInferRequest(
        inputs=[Input(name="x", datatype=datatype, shape=[2, 3])],
        raw_input_contents=[values.astype(values.dtype.newbyteorder("<")).tobytes()],
    )
    (tensor,) = decode_inputs(request)
    assert (tensor.name, tensor.datatype, tensor.shape) == ("x", datatype, (2, 3))
    assert tensor.data.dtype == dtype_of(datatype)
    np.testing.assert_array_equal(tensor.data, values)


@pytest.mark.parametrize("datatype", [d for d in CONTENTS_FIELD if d != "BYTES"])
def test_typed_contents_decode_like_raw(datatype: str) -> None:
    values = _values(datatype)
    tensor_pb = Input(name="x", datatype=datatype, shape=[2, 3])
    getattr(tensor_pb.contents, CONTENTS_FIELD[datatype]).extend(values.ravel().tolist())
    (tensor,) = decode_inputs(pb.ModelInferRequest(inputs=[tensor_pb]))
    assert tensor.data.dtype == dtype_of(datatype)
    np.testing.assert_array_equal(tensor.data, values)


def test_bytes_in_both_encodings() -> None:
    items = [b"", b"hello", "żółw".encode()]
    raw = pb.ModelInferRequest(
        inputs=[Input(name="s", datatype="BYTES", shape=[3])], raw_input_contents=[bytes_raw(items)]
    )
    typed = pb.ModelInferRequest(
        inputs=[
            Input(
                name="s", datatype="BYTES", shape=[3], contents=pb.InferTensorContents(bytes_contents=items)
            )
        ]
    )
    for request in (raw, typed):
        (tensor,) = decode_inputs(request)
        assert tensor.data.tolist() == items


def test_outputs_are_raw_little_endian_and_bytes_length_prefixed() -> None:
    floats = np.array([[1.5, -2.0]], dtype=np.float32)
    entry, raw = encode_output(Tensor(name="y", datatype="FP32", shape=(1, 2), data=floats))
    assert (entry.name, entry.datatype, list(entry.shape)) == ("y", "FP32", [1, 2])
    assert raw == floats.astype("<f4").tobytes()
    strings = np.array([b"ab", b""], dtype=object)
    _, raw = encode_output(Tensor(name="s", datatype="BYTES", shape=(2,), data=strings))
    assert raw == bytes_raw([b"ab", b""])


@pytest.mark.parametrize(
    ("request_pb", "message"),
    [
        (
            pb.ModelInferRequest(
                inputs=[Input(name="x", datatype="FP32", shape=[2])], raw_input_contents=[b"\0" * 4]
            ),
            "Invalid content size of input x - Expected: 8 bytes; Actual: 4 bytes",
        ),
        (
            pb.ModelInferRequest(
                inputs=[
                    Input(name="x", datatype="FP32", shape=[1]),
                    Input(name="z", datatype="FP32", shape=[1]),
                ],
                raw_input_contents=[b"\0" * 4],
            ),
            "raw_input_contents has 1 entries but the request has 2 inputs",
        ),
        (
            pb.ModelInferRequest(inputs=[Input(name="x", datatype="FP32", shape=[-1])]),
            "Invalid shape of input x: [-1]",
        ),
        (
            pb.ModelInferRequest(inputs=[Input(name="x", datatype="FLOAT", shape=[1])]),
            "Invalid datatype 'FLOAT' of input x",
        ),
        (
            pb.ModelInferRequest(
                inputs=[
                    Input(
                        name="x",
                        datatype="FP32",
                        shape=[3],
                        contents=pb.InferTensorContents(fp32_contents=[1.0]),
                    )
                ]
            ),
            "Invalid number of elements in input x - Expected: 3; Actual: 1",
        ),
        (
            pb.ModelInferRequest(inputs=[Input(name="x", datatype="FP16", shape=[1])]),
            "Input x of datatype FP16 must use raw_input_contents",
        ),
        (
            pb.ModelInferRequest(
                inputs=[
                    Input(
                        name="x",
                        datatype="INT8",
                        shape=[1],
                        contents=pb.InferTensorContents(int_contents=[300]),
                    )
                ]
            ),
            "Values of input x are out of range for INT8",
        ),
        (
            pb.ModelInferRequest(
                inputs=[Input(name="x", datatype="BYTES", shape=[1])], raw_input_contents=[b"\x05\0\0\0ab"]
            ),
            "Invalid BYTES content of input x: element longer than the buffer",
        ),
        (
            pb.ModelInferRequest(
                inputs=[Input(name="x", datatype="BYTES", shape=[2])], raw_input_contents=[bytes_raw([b"a"])]
            ),
            "Invalid number of elements in input x - Expected: 2; Actual: 1",
        ),
        (
            pb.ModelInferRequest(
                inputs=[Input(name="x", datatype="BYTES", shape=[1])], raw_input_contents=[b"\x01\0"]
            ),
            "Invalid BYTES content of input x: truncated length prefix",
        ),
        (
            pb.ModelInferRequest(
                inputs=[
                    Input(
                        name="x",
                        datatype="FP32",
                        shape=[1],
                        contents=pb.InferTensorContents(fp32_contents=[1.0]),
                    )
                ],
                raw_input_contents=[b"\0" * 4],
            ),
            "Input x has typed contents, but the request uses raw_input_contents",
        ),
        (
            pb.ModelInferRequest(
                inputs=[
                    Input(name="x", datatype="BYTES", shape=[0]),
                    Input(name="x", datatype="BYTES", shape=[0]),
                ]
            ),
            "Duplicate input names in the request",
        ),
    ],
)
def test_malformed_inputs_are_invalid_arguments(request_pb: pb.ModelInferRequest, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        decode_inputs(request_pb)
    assert info.value.message == message


def test_parameters_round_trip() -> None:
    request = pb.ModelInferRequest()
    for key, value in {"flag": True, "count": 7, "text": "x"}.items():
        encode_parameter(request.parameters[key], value)
    request.parameters["unset"].SetInParent()
    assert decode_parameters(request.parameters) == {"flag": True, "count": 7, "text": "x", "unset": None}


@pytest.mark.parametrize(("text", "version"), [("", None), ("0", None), ("3", 3)])
def test_versions_parse(text: str, version: int | None) -> None:
    assert parse_version(text) == version


@pytest.mark.parametrize("text", ["-1", "v1", "1.0", "٣"])
def test_malformed_versions_are_rejected(text: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid model version format in request"):
        parse_version(text)
