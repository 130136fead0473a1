"""The gRPC half of the malformed-request corpus: `GrpcCase` and the table `GRPC_CASES`.

Each case names a KServe v2 RPC, builds its request (a fresh one on every call) and gives the
status code and a substring of the details it must get. `corpus` describes the server under test.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import numpy as np

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from tests.grpc.support import raw_request, texts_request
from tests.security.corpus import E, G


@dataclass(frozen=True)
class GrpcCase:
    id: str
    method: str
    request: Callable[[], object]
    code: grpc.StatusCode
    message: str


def _graph(texts: list[str], **parameters: int | bool | str) -> pb.ModelInferRequest:
    return texts_request(G, texts, raw=True, **parameters)


def _with(
    request: pb.ModelInferRequest, change: Callable[[pb.ModelInferRequest], object]
) -> pb.ModelInferRequest:
    change(request)
    return request


def _ids() -> pb.ModelInferRequest:
    ids = np.array([[101, 102]], dtype=np.int64)
    return raw_request(E, {"input_ids": ("INT64", ids), "attention_mask": ("INT64", np.ones_like(ids))})


I = grpc.StatusCode.INVALID_ARGUMENT  # noqa: E741 - short name keeps the table readable
GRPC_CASES: list[GrpcCase] = [
    GrpcCase(
        "unknown-model",
        "ModelInfer",
        lambda: texts_request("nope", ["a"], raw=True),
        grpc.StatusCode.NOT_FOUND,
        "Model with requested name is not found",
    ),
    GrpcCase(
        "version-format",
        "ModelInfer",
        lambda: _with(_ids(), lambda r: setattr(r, "model_version", "abc")),
        I,
        "invalid model version format in request",
    ),
    GrpcCase(
        "unknown-version",
        "ModelInfer",
        lambda: _with(_ids(), lambda r: setattr(r, "model_version", "99")),
        grpc.StatusCode.NOT_FOUND,
        "Model with requested version is not found",
    ),
    GrpcCase(
        "graph-no-inputs",
        "ModelInfer",
        lambda: pb.ModelInferRequest(model_name=G),
        I,
        "Invalid number of inputs",
    ),
    GrpcCase(
        "graph-int-input",
        "ModelInfer",
        lambda: raw_request(G, {"input": ("INT64", np.ones(2, np.int64))}),
        I,
        "takes one BYTES input named input",
    ),
    GrpcCase(
        "raw-count", "ModelInfer", lambda: _with(_ids(), lambda r: r.raw_input_contents.append(b"x")), I, ""
    ),
    GrpcCase(
        "raw-size",
        "ModelInfer",
        lambda: _with(_ids(), lambda r: r.raw_input_contents.__setitem__(0, b"123")),
        I,
        "",
    ),
    GrpcCase(
        "datatype",
        "ModelInfer",
        lambda: _with(_ids(), lambda r: setattr(r.inputs[0], "datatype", "FP128")),
        I,
        "Invalid datatype 'FP128' of input input_ids",
    ),
    GrpcCase(
        "negative-shape",
        "ModelInfer",
        lambda: _with(_ids(), lambda r: r.inputs[0].shape.__setitem__(0, -3)),
        I,
        "Invalid shape of input input_ids",
    ),
    GrpcCase(
        "duplicate-input",
        "ModelInfer",
        lambda: _with(_ids(), lambda r: setattr(r.inputs[1], "name", "input_ids")),
        I,
        "Duplicate input names in the request",
    ),
    GrpcCase(
        "graph-normalize",
        "ModelInfer",
        lambda: _graph(["a"], normalize=True),
        I,
        "request parameter normalize is not supported",
    ),
    GrpcCase(
        "graph-dimensions-str",
        "ModelInfer",
        lambda: _graph(["a"], dimensions="3"),
        I,
        "dimensions should be an integer",
    ),
    GrpcCase(
        "graph-dimensions-0",
        "ModelInfer",
        lambda: _graph(["a"], dimensions=0),
        I,
        "dimensions should be greater than 0",
    ),
    GrpcCase(
        "graph-bad-utf8", "ModelInfer", lambda: _graph_bytes([b"\xff\xfe"]), I, "must hold UTF-8 strings"
    ),
    GrpcCase("graph-empty", "ModelInfer", lambda: _graph([]), I, "input array should not be empty"),
    GrpcCase(
        "graph-truncated-bytes",
        "ModelInfer",
        lambda: _with(
            _graph(["abc"]), lambda r: r.raw_input_contents.__setitem__(0, struct.pack("<I", 9) + b"a")
        ),
        I,
        "Invalid BYTES content of input input",
    ),
    GrpcCase(
        "graph-unknown-output",
        "ModelInfer",
        lambda: _with(_graph(["a"]), lambda r: r.outputs.add(name="nope")),
        I,
        "Output not found in graph: nope",
    ),
    GrpcCase(
        "graph-too-many",
        "ModelInfer",
        lambda: _graph(["a"] * 65),
        I,
        "request has 65 inputs, more than the limit of 64 per request",
    ),
    GrpcCase(
        "too-large",
        "ModelInfer",
        lambda: _graph(["a" * (2 << 20)]),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "Received message larger than max",
    ),
    GrpcCase(
        "metadata-unknown",
        "ModelMetadata",
        lambda: pb.ModelMetadataRequest(name="nope"),
        grpc.StatusCode.NOT_FOUND,
        "Model with requested name is not found",
    ),
    GrpcCase(
        "ready-unknown",
        "ModelReady",
        lambda: pb.ModelReadyRequest(name="nope"),
        grpc.StatusCode.NOT_FOUND,
        "Model with requested name is not found",
    ),
    GrpcCase(
        "ready-version-format",
        "ModelReady",
        lambda: pb.ModelReadyRequest(name=E, version="v1"),
        I,
        "invalid model version format in request",
    ),
]


def _graph_bytes(items: list[bytes]) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name=G)
    request.inputs.add(name="input", datatype="BYTES", shape=[len(items)])
    request.raw_input_contents.append(b"".join(struct.pack("<I", len(i)) + i for i in items))
    return request
