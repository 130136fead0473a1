"""KServe v2 REST codec (the Open Inference Protocol over REST): server and model metadata,
model ready, infer.

Model names are URL-decoded (`sentence-transformers%2Fall-MiniLM-L6-v2`) and may also arrive
with raw slashes (tritonclient quotes names keeping `/`), so one route per method takes the
rest of the path and `split_model_path` separates name, `/versions/{v}` and the action.
`infer` speaks JSON and the binary-data extension (`Inference-Header-Content-Length`); for
embeddings graphs it follows the `DataPlane.infer` contract (BYTES `input` → FP32 `output`).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ovserve.dataplane import DeferredInfer
from ovserve.errors import InvalidArgument, NotFound
from ovserve.frontends.rest.jsonio import (
    DECODE_OFF_LOOP_BYTES,
    ENCODE_OFF_LOOP_VALUES,
    decode,
    dumps,
    json_bytes_response,
    off_loop_if,
)
from ovserve.frontends.rest.kserve_tensors import DecodedInputs, decode_inputs, encode_outputs
from ovserve.frontends.rest.state import DATAPLANE
from ovserve.types import InferRequest, InferResponse

HEADER_LENGTH = "Inference-Header-Content-Length"
_VERSIONED = re.compile(r"(?P<name>.+)/versions/(?P<version>[0-9]+)")


def split_model_path(path: str, actions: tuple[str, ...]) -> tuple[str, int | None, str]:
    """`name[/versions/v][/action]` (trailing `/` allowed) → (name, version or None, action or "")."""
    path = path.rstrip("/")
    action = ""
    for candidate in actions:
        if path.endswith("/" + candidate):
            path, action = path[: -len(candidate) - 1], candidate
            break
    match = _VERSIONED.fullmatch(path)
    if match is None:
        return path, None, action
    return match["name"], int(match["version"]), action


async def server_metadata(request: web.Request) -> web.Response:
    meta = request.app[DATAPLANE].server_metadata()
    return json_bytes_response(dumps({"name": meta.name, "version": meta.version}))


async def model_get(request: web.Request) -> web.Response:
    """`GET /v2/models/{name}[/versions/{v}]` (metadata) and `…/ready`."""
    name, version, action = split_model_path(request.match_info["path"], ("ready",))
    dataplane = request.app[DATAPLANE]
    if action == "ready":
        if not dataplane.model_ready(name, version):
            raise NotFound("Model with requested version is not loaded yet")
        return web.Response(status=200)
    meta = await dataplane.model_metadata(name, version)
    body = {
        "name": meta.name,
        "versions": list(meta.versions),
        "platform": meta.platform,
        "inputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in meta.inputs],
        "outputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in meta.outputs],
    }
    return json_bytes_response(dumps(body))


async def model_post(request: web.Request) -> web.Response:
    """`POST /v2/models/{name}[/versions/{v}]/infer`, JSON or binary-data extension."""
    name, version, action = split_model_path(request.match_info["path"], ("infer",))
    if action != "infer":
        raise NotFound("Requested REST resource not found")
    binary_outputs: set[str] = set()

    async def decode_request() -> InferRequest:
        neutral, binary = await _decode_request(request, name, version)
        binary_outputs.update(binary)
        return neutral

    # Decoded once admitted: under overload a refusal costs almost nothing.
    response = await request.app[DATAPLANE].infer(DeferredInfer(model=name, decode=decode_request))
    large = sum(t.data.size for t in response.outputs) > ENCODE_OFF_LOOP_VALUES
    encoded, tail = await off_loop_if(large, lambda: _encode(response, binary_outputs))
    if not tail:
        return json_bytes_response(encoded)
    return web.Response(
        body=encoded + tail,
        content_type="application/octet-stream",
        headers={HEADER_LENGTH: str(len(encoded))},
    )


async def _decode_request(
    request: web.Request, name: str, version: int | None
) -> tuple[InferRequest, set[str]]:
    """The neutral request of a KServe JSON or binary-data body, and the outputs asked for in binary."""
    raw = await request.read()
    header_length = request.headers.get(HEADER_LENGTH)
    if header_length is None:
        header, binary = raw, b""
    else:
        try:
            split = int(header_length)
        except ValueError:
            raise InvalidArgument(f"{HEADER_LENGTH} is not an integer") from None
        if not 0 <= split <= len(raw):
            raise InvalidArgument(f"{HEADER_LENGTH} is larger than the request body")
        header, binary = raw[:split], raw[split:]
    body, (inputs, requested, binary_outputs) = await off_loop_if(
        len(raw) > DECODE_OFF_LOOP_BYTES, lambda: _parse(header, binary)
    )
    infer_id = body.get("id", "")
    parameters = body.get("parameters")
    neutral = InferRequest(
        model=name,
        version=version,
        id=infer_id if isinstance(infer_id, str) else "",
        inputs=inputs,
        outputs=requested,
        parameters=dict(parameters) if isinstance(parameters, dict) else {},
    )
    return neutral, set(binary_outputs)


def _parse(header: bytes, binary: bytes) -> tuple[dict[str, Any], DecodedInputs]:
    body = decode(header)
    if not isinstance(body, dict):
        raise InvalidArgument("Received json is not an object")
    return body, decode_inputs(body, binary)


def _encode(response: InferResponse, binary_outputs: set[str]) -> tuple[bytes, bytes]:
    head, tail = encode_outputs(response.outputs, binary_outputs)
    document: dict[str, object] = {"model_name": response.model, "model_version": response.version}
    if response.id:
        document["id"] = response.id
    if response.parameters:
        document["parameters"] = response.parameters
    document["outputs"] = head
    return dumps(document), tail


ROUTES = [
    web.get("/v2", server_metadata),
    web.get("/v2/models/{path:.+}", model_get),
    web.post("/v2/models/{path:.+}", model_post),
]
