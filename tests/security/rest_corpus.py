"""The REST half of the malformed-request corpus: `RestCase` and the table `REST_CASES`.

Each case is one request (method, path, body, headers) and the answer it must get: its HTTP
status and a substring of its error message. `corpus` describes the server under test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.security.corpus import EXEC, INVALID_JSON, E, G


@dataclass(frozen=True)
class RestCase:
    id: str
    method: str
    path: str
    body: bytes | None
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


def _j(value: object) -> bytes:
    return json.dumps(value).encode()


def _tensor(
    name: str = "input_ids", datatype: str = "INT64", shape: object = (1, 2), data: object = (1, 2)
) -> dict[str, object]:
    return {
        "name": name,
        "datatype": datatype,
        "shape": list(shape) if isinstance(shape, tuple) else shape,
        "data": list(data) if isinstance(data, tuple) else data,
    }


def _infer(*inputs: dict[str, object], **extra: object) -> bytes:
    return _j({"inputs": list(inputs), **extra})


EMB = "/v3/embeddings"
KS = f"/v2/models/{E}/infer"
KG = f"/v2/models/{G}/infer"

REST_CASES: list[RestCase] = [
    # OpenAI embeddings: body and routing (412 / 404, OVMS texts), then validation (400).
    RestCase("openai-not-json", "POST", EMB, b"not json", 412, INVALID_JSON + "Cannot parse JSON body"),
    RestCase("openai-truncated", "POST", EMB, b'{"model":', 412, INVALID_JSON + "Cannot parse JSON body"),
    RestCase(
        "openai-bad-utf8", "POST", EMB, b'{"model":"\xff\xfe"}', 412, INVALID_JSON + "Cannot parse JSON body"
    ),
    RestCase("openai-array", "POST", EMB, b"[1,2]", 412, INVALID_JSON + "JSON body must be an object"),
    RestCase(
        "openai-no-model", "POST", EMB, b"{}", 412, INVALID_JSON + "model field is missing in JSON body"
    ),
    RestCase(
        "openai-model-int", "POST", EMB, _j({"model": 5}), 412, INVALID_JSON + "model field is not a string"
    ),
    RestCase("openai-depth-101", "POST", EMB, b"[" * 101 + b"]" * 101, 412, "exceeds maximum nesting depth"),
    RestCase("openai-depth-100k", "POST", EMB, b"[" * 100_000, 412, "exceeds maximum nesting depth"),
    RestCase(
        "openai-unknown-graph",
        "POST",
        EMB,
        _j({"model": "nope", "input": "x"}),
        404,
        "Mediapipe graph definition with requested name is not found",
    ),
    RestCase(
        "openai-model-is-a-model",
        "POST",
        EMB,
        _j({"model": E, "input": "x"}),
        404,
        "Mediapipe graph definition with requested name is not found",
    ),
    RestCase(
        "openai-empty-model-uri",
        "POST",
        EMB,
        _j({"model": "", "input": "x"}),
        404,
        "Mediapipe graph definition with requested name is not found",
    ),
    RestCase(
        "openai-text-plain",
        "POST",
        EMB,
        b"hello",
        404,
        "Mediapipe graph definition with requested name is not found",
        {"Content-Type": "text/plain"},
    ),
    RestCase("openai-no-input", "POST", EMB, _j({"model": G}), 400, EXEC),
    RestCase("openai-input-int", "POST", EMB, _j({"model": G, "input": 5}), 400, EXEC),
    RestCase(
        "openai-input-empty",
        "POST",
        EMB,
        _j({"model": G, "input": []}),
        400,
        "input array should not be empty",
    ),
    RestCase("openai-input-mixed", "POST", EMB, _j({"model": G, "input": [1, "a"]}), 400, EXEC),
    RestCase("openai-input-null", "POST", EMB, _j({"model": G, "input": ["a", None]}), 400, EXEC),
    RestCase("openai-input-object", "POST", EMB, _j({"model": G, "input": {"a": 1}}), 400, EXEC),
    RestCase(
        "openai-encoding", "POST", EMB, _j({"model": G, "input": "a", "encoding_format": "hex"}), 400, EXEC
    ),
    RestCase(
        "openai-dimensions-str",
        "POST",
        EMB,
        _j({"model": G, "input": "a", "dimensions": "3"}),
        400,
        "dimensions should be an integer",
    ),
    RestCase(
        "openai-dimensions-nan",
        "POST",
        EMB,
        b'{"model":"%b","input":"a","dimensions":NaN}' % G.encode(),
        400,
        "dimensions should be an integer",
    ),
    RestCase(
        "openai-dimensions-0",
        "POST",
        EMB,
        _j({"model": G, "input": "a", "dimensions": 0}),
        400,
        "dimensions should be greater than 0",
    ),
    RestCase(
        "openai-dimensions-big",
        "POST",
        EMB,
        _j({"model": G, "input": "a", "dimensions": 10**6}),
        400,
        "dimensions should be between",
    ),
    RestCase(
        "openai-too-many-inputs",
        "POST",
        EMB,
        _j({"model": G, "input": ["a"] * 65}),
        400,
        "request has 65 inputs, more than the limit of 64 per request",
    ),
    RestCase("openai-body-too-large", "POST", EMB, b" " * (2 << 20), 413, "Request body too large"),
    RestCase("openai-get", "GET", EMB, None, 405, "Method Not Allowed"),
    RestCase("openai-put", "PUT", "/v1/embeddings", b"{}", 405, "Method Not Allowed"),
    # KServe v2 infer.
    RestCase(
        "kserve-unknown-model",
        "POST",
        "/v2/models/nope/infer",
        _infer(_tensor()),
        404,
        "Model with requested name is not found",
    ),
    RestCase(
        "kserve-unknown-version",
        "POST",
        f"/v2/models/{E}/versions/99/infer",
        _infer(_tensor()),
        404,
        "Model with requested version is not found",
    ),
    RestCase(
        "kserve-unknown-action",
        "POST",
        f"/v2/models/{E}/predict",
        _infer(_tensor()),
        404,
        "Requested REST resource not found",
    ),
    RestCase("kserve-not-json", "POST", KS, b"{oops", 412, INVALID_JSON + "Cannot parse JSON body"),
    RestCase("kserve-array", "POST", KS, b"[]", 400, "Received json is not an object"),
    RestCase(
        "kserve-no-inputs", "POST", KS, b"{}", 400, "inputs field is required and must be a non-empty array"
    ),
    RestCase("kserve-input-int", "POST", KS, _j({"inputs": [5]}), 400, "every input must be an object"),
    RestCase(
        "kserve-input-no-shape",
        "POST",
        KS,
        _j({"inputs": [{"name": "x"}]}),
        400,
        "every input needs name, datatype and shape",
    ),
    RestCase(
        "kserve-negative-shape", "POST", KS, _infer(_tensor(shape=[-1, 2])), 400, "invalid shape [-1, 2]"
    ),
    RestCase(
        "kserve-datatype", "POST", KS, _infer(_tensor(datatype="FP128")), 400, "unsupported datatype FP128"
    ),
    RestCase(
        "kserve-shape-mismatch",
        "POST",
        KS,
        _infer(_tensor(shape=[1, 3])),
        400,
        "2 values do not fit shape [1, 3]",
    ),
    RestCase("kserve-data-not-array", "POST", KS, _infer(_tensor(data="abc")), 400, "data must be an array"),
    RestCase(
        "kserve-data-type",
        "POST",
        KS,
        _infer(_tensor(data=["a", "b"])),
        400,
        "data does not match datatype INT64",
    ),
    RestCase(
        "kserve-bytes-not-str",
        "POST",
        KG,
        _infer(_tensor("input", "BYTES", [1], [1])),
        400,
        "BYTES data must be strings",
    ),
    RestCase(
        "kserve-header-length-text",
        "POST",
        KS,
        _infer(_tensor()),
        400,
        "Inference-Header-Content-Length is not an integer",
        {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": "abc"},
    ),
    RestCase(
        "kserve-header-length-big",
        "POST",
        KS,
        _infer(_tensor()),
        400,
        "Inference-Header-Content-Length is larger than the request body",
        {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": "99999"},
    ),
    RestCase(
        "kserve-binary-size",
        "POST",
        KS,
        _infer({**_tensor(), "data": None, "parameters": {"binary_data_size": 64}}),
        400,
        "binary_data_size exceeds the binary data",
    ),
    RestCase(
        "kserve-output-no-name",
        "POST",
        KS,
        _infer(_tensor(), outputs=[{"nm": 1}]),
        400,
        "every requested output needs a name",
    ),
    RestCase(
        "kserve-graph-int-input",
        "POST",
        KG,
        _infer(_tensor("input", "INT64", [1], [1])),
        400,
        f"graph {G} takes one BYTES input named input",
    ),
    RestCase(
        "kserve-graph-two-inputs",
        "POST",
        KG,
        _infer(_tensor("input", "BYTES", [1], ["a"]), _tensor("other", "BYTES", [1], ["b"])),
        400,
        "Invalid number of inputs - Expected: 1; Actual: 2",
    ),
    RestCase(
        "kserve-graph-unknown-output",
        "POST",
        KG,
        _infer(_tensor("input", "BYTES", [1], ["a"]), outputs=[{"name": "nope"}]),
        400,
        "Output not found in graph: nope",
    ),
    RestCase(
        "kserve-graph-too-many",
        "POST",
        KG,
        _infer(_tensor("input", "BYTES", [65], ["a"] * 65)),
        400,
        "request has 65 inputs, more than the limit of 64 per request",
    ),
    # Metadata, status and unknown routes.
    RestCase(
        "kserve-meta-unknown", "GET", "/v2/models/nope", None, 404, "Model with requested name is not found"
    ),
    RestCase(
        "kserve-ready-unknown",
        "GET",
        "/v2/models/nope/ready",
        None,
        404,
        "Model with requested name is not found",
    ),
    RestCase(
        "kserve-meta-version",
        "GET",
        f"/v2/models/{E}/versions/42",
        None,
        404,
        "Model with requested version is not found",
    ),
    RestCase(
        "tfs-unknown",
        "GET",
        "/v1/models/nope/versions/1",
        None,
        404,
        "Model with requested name is not found",
    ),
    RestCase("openai-model-unknown", "GET", "/v3/models/nope", None, 404, "Model not found"),
    RestCase("unknown-route", "GET", "/v4/anything", None, 404, "Requested REST resource not found"),
    # Names never reach the file system: traversal attempts are unknown names.
    RestCase(
        "traversal-encoded",
        "GET",
        "/v2/models/..%2F..%2Fconfig.json",
        None,
        404,
        "Model with requested name is not found",
    ),
    RestCase(
        "traversal-infer",
        "POST",
        "/v2/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd/infer",
        _infer(_tensor()),
        404,
        "Model with requested name is not found",
    ),
    RestCase(
        "traversal-openai",
        "POST",
        EMB,
        _j({"model": "../" + G, "input": "a"}),
        404,
        "Mediapipe graph definition with requested name is not found",
    ),
    RestCase("delete-model", "DELETE", f"/v2/models/{E}", None, 405, "Method Not Allowed"),
]
