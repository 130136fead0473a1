"""OpenAI model listing: `GET /v3/models`, `GET /v3/models/{name}`, also under `/v3/v1` and `/v1`.

Lists every servable with an AVAILABLE version (graphs and plain models), as OVMS does. An
unknown name answers 404 `Model not found`; OVMS answers 500 there, which is a bug.
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
    servables = request.app[DATAPLANE].list_servables()
    body = {"data": [_model_object(s.name, now) for s in servables], "object": "list"}
    return json_bytes_response(dumps(body))


async def retrieve_model(request: web.Request) -> web.Response:
    info = request.app[DATAPLANE].servable(request.match_info["name"])
    return json_bytes_response(dumps(_model_object(info.name, int(time.time()))))


ROUTES = [web.get(f"{prefix}/models", list_models) for prefix in _PREFIXES] + [
    web.get(f"{prefix}/models/{{name:.+}}", retrieve_model) for prefix in _PREFIXES
]
