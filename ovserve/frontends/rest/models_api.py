"""OpenAI model listing: `GET /v3/models`, `GET /v3/models/{name}`, also under `/v3/v1` and `/v1`.

Lists what a client can call: every graph and plain model with an AVAILABLE version, and the
aliases of those (`ovserve.names`). Unlike OVMS, a graph's own models (its tokenizer and
embeddings servables) are left out: a model picker should not offer a tokenizer; `/v1/config`
and KServe still show them. Retrieving accepts the same names a request does (an alias, a
unique last segment) and answers with the name asked for. An unknown name answers 404
`Model not found`; OVMS answers 500 there, which is a bug.
Names may contain `/` (`sentence-transformers/all-MiniLM-L6-v2`), so `{name}` takes the
whole rest of the path.
"""

from __future__ import annotations

import time

from aiohttp import web

from ovserve.frontends.rest.jsonio import dumps, json_bytes_response
from ovserve.frontends.rest.state import DATAPLANE

_PREFIXES = ("/v3", "/v3/v1", "/v1")


def _model_object(name: str, created: int) -> dict[str, object]:
    # OVMS reports the time of the call as `created`; it has no better date either.
    return {"id": name, "object": "model", "created": created, "owned_by": "OVMS"}


async def list_models(request: web.Request) -> web.Response:
    now = int(time.time())
    names = request.app[DATAPLANE].names.listed_names()
    body = {"data": [_model_object(name, now) for name in names], "object": "list"}
    return json_bytes_response(dumps(body))


async def retrieve_model(request: web.Request) -> web.Response:
    dataplane = request.app[DATAPLANE]
    asked = request.match_info["name"]
    served = dataplane.resolve_name(asked)
    if served not in dataplane.names.callable_names() and asked not in dataplane.names.callable_names():
        dataplane.servable(asked)  # a graph's own model, or unknown: `Model not found` unless served
    return json_bytes_response(dumps(_model_object(asked, int(time.time()))))


ROUTES = [web.get(f"{prefix}/models", list_models) for prefix in _PREFIXES] + [
    web.get(f"{prefix}/models/{{name:.+}}", retrieve_model) for prefix in _PREFIXES
]
