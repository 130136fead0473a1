"""Request builders and checks for the slow toy model (`tests/support/toys.py`)."""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from tests.grpc.support import output_array, raw_request
from tests.support.toys import WIDTH


def rest_body(seed: int) -> tuple[bytes, npt.NDArray[np.float32]]:
    """A pre-encoded KServe JSON body for model `slow`, and the `y` it must return."""
    x = np.random.default_rng(seed).random((1, WIDTH), dtype=np.float32)
    body = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, WIDTH], "data": x.ravel().tolist()}]}
    return json.dumps(body).encode(), x


def rest_answer_matches(raw: bytes, expected: npt.NDArray[np.float32]) -> bool:
    """True when a KServe JSON answer carries `y == expected` (float32 values round-trip)."""
    document = json.loads(raw)
    (output,) = document["outputs"]
    values = np.asarray(output["data"], dtype=np.float32).reshape(expected.shape)
    return output["name"] == "y" and bool(np.array_equal(values, expected))


def grpc_request(seed: int) -> tuple[pb.ModelInferRequest, npt.NDArray[np.float32]]:
    x = np.random.default_rng(seed).random((1, WIDTH), dtype=np.float32)
    return raw_request("slow", {"x": ("FP32", x)}), x


def grpc_answer_matches(response: pb.ModelInferResponse, expected: npt.NDArray[np.float32]) -> bool:
    return bool(np.array_equal(output_array(response, "y"), expected))
