"""OpenAI-compatible ("V3") embeddings codec: `POST /v3/<anything>`, `/v1/embeddings`, `/v1/rerank`.

As in OVMS, the rest of the path after `/v3/` does not route: the body's `model`
names the graph, so `/v3/embeddings`, `/v3/v1/embeddings` and `/v3/embeddings/embeddings` are
one endpoint. Checks run in OVMS order: body and `model` (412) → graph lookup (404) → the
graph's own validation of the body (400, inside the OVMS execution-error wrapper).

A path ending in `tokenize` (`/v3/tokenize`, `/v3/v1/tokenize`) runs the graph's tokenize
branch instead; its body errors come back the same way. A path ending in `rerank` goes to a
rerank graph (`ovserve.frontends.rest.rerank`); an embeddings graph named there, or a rerank
graph named on an embeddings path, is a 400 that says which route to call.

Beyond OVMS: the response carries `model`; `dimensions` keeps the first N values (see
`ovserve.dataplane.truncate_dimensions`); `user` is ignored like any unknown key.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping

from aiohttp import web

from ovserve.errors import FailedPrecondition, InternalError, InvalidArgument
from ovserve.frontends.rest.jsonio import (
    ENCODE_OFF_LOOP_VALUES,
    dumps,
    dumps_floats,
    json_bytes_response,
    off_loop_if,
    read_json,
)
from ovserve.frontends.rest.rerank import is_rerank_path, rerank
from ovserve.frontends.rest.state import DATAPLANE
from ovserve.types import EmbeddingsResult, NonJsonPayload, TokenizeResult

_INVALID = "The file is not valid json - "
# OpenAI's error types by status; other statuses: server_error (5xx), invalid_request_error.
_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    412: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(status: int, message: str) -> dict[str, object]:
    """OpenAI's `{"error": {"message", "type", "code"}}`, for the `/v3` and OpenAI `/v1` routes."""
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": status}}


async def dispatch(request: web.Request) -> web.Response:
    """One OpenAI call, routed by the body's `model` (or by the URI, as OVMS, when not JSON)."""
    dataplane = request.app[DATAPLANE]
    path = request.path
    if "application/json" not in request.headers.get("Content-Type", ""):
        # OVMS: the graph name is the URI after `/v3/` and the body is handed over unparsed.
        model = path[4:]
        dataplane.graph(model)
        payload = NonJsonPayload(body=await request.read(), content_type=request.content_type)
        render = _renderer(model, base64_output=False)
        result = await dataplane.embeddings(model, payload, render=render)
        return _respond(result)
    body = await read_json(request)
    if not isinstance(body, Mapping):
        raise FailedPrecondition(_INVALID + "JSON body must be an object")
    if "model" not in body:
        raise FailedPrecondition(_INVALID + "model field is missing in JSON body")
    model = body["model"]
    if not isinstance(model, str):
        raise FailedPrecondition(_INVALID + "model field is not a string")
    # OVMS: an empty model is routed by the URI. Aliases and last segments: `ovserve.names`.
    model = dataplane.resolve_name(model or path[4:])
    dataplane.graph(model)  # 404 / 500 for an unknown or unloaded graph, before any other check
    if is_rerank_path(path):
        return await rerank(request, model, body)
    if path.endswith("tokenize"):
        text = body.get("text")
        count = len(text) if isinstance(text, list) else 1
        tokens = await dataplane.tokenize(model, body, inputs=count)
        large = sum(len(row) for row in tokens.tokens) > ENCODE_OFF_LOOP_VALUES
        return json_bytes_response(await off_loop_if(large, lambda: encode_tokens(tokens)))
    count = input_count(body.get("input"))
    dimensions = _dimensions(body)
    # The graph validates encoding_format before `render` runs.
    render = _renderer(model, base64_output=body.get("encoding_format") == "base64")
    result = await dataplane.embeddings(model, body, inputs=count, dimensions=dimensions, render=render)
    return _respond(result)


def _renderer(model: str, *, base64_output: bool) -> Callable[[EmbeddingsResult], bytes]:
    """The body encoder the data plane runs on the graph's worker thread (see `_respond`)."""
    return lambda result: encode_embeddings(model, result, base64_output=base64_output)


def _respond(result: EmbeddingsResult) -> web.Response:
    # Encoded off the loop, on the thread that ran the graph: even one 384-float vector takes
    # ~0.25-0.5 ms of JSON, time the loop spends on other connections instead, at no extra hop.
    if result.rendered is None:
        raise InternalError("the embeddings answer was not encoded")
    return json_bytes_response(result.rendered)


def encode_tokens(result: TokenizeResult) -> bytes:
    """`{"tokens": [ids]}` for one text, `{"tokens": [[ids], …]}` for a list, as OVMS answers.

    Row by row for the reason given in `encode_embeddings`.
    """
    if result.single:
        return b'{"tokens":%b}' % dumps(list(result.tokens[0]))
    return b'{"tokens":[%b]}' % b",".join(dumps(list(row)) for row in result.tokens)


def input_count(value: object) -> int:
    """Documents in an OpenAI `input`: a string or one token list is 1, a list of either is its length."""
    if not isinstance(value, list) or (value and isinstance(value[0], int)):
        return 1
    return len(value)


def _dimensions(body: Mapping[str, object]) -> int | None:
    value = body.get("dimensions")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgument("dimensions should be an integer")
    return value


def encode_embeddings(model: str, result: EmbeddingsResult, *, base64_output: bool) -> bytes:
    """The OpenAI response body (key order as OVMS, plus `model` before `usage`).

    Floats are the float32 values widened to double and written with the shortest repr that
    round-trips, as OVMS does (`-0.03440694510936737`); base64 is the little-endian float32
    bytes of each vector, standard alphabet with padding.

    Encoded one vector at a time on purpose: the C JSON encoder holds the GIL for a whole
    call, so one call over 256×384 floats (~150 ms) would stall the event loop even from a
    worker thread; per-vector calls (~0.5 ms) let the loop thread in between.
    """
    little = result.embeddings.astype("<f4", copy=False)
    items = []
    for index, row in enumerate(little):
        vector = b'"' + base64.b64encode(row.tobytes()) + b'"' if base64_output else dumps_floats(row)
        items.append(b'{"object":"embedding","embedding":%b,"index":%d}' % (vector, index))
    usage = {"prompt_tokens": result.prompt_tokens, "total_tokens": result.prompt_tokens}
    return b'{"object":"list","data":[%b],"model":%b,"usage":%b}' % (
        b",".join(items),
        dumps(model),
        dumps(usage),
    )


ROUTES = [
    web.post("/v3/{tail:.*}", dispatch),
    web.post("/v1/embeddings", dispatch),
    web.post("/v1/rerank", dispatch),
]
