"""TFS model status, `GET /v1/models/{name}/versions/{v}` (TensorFlow Serving's REST API,
which OVMS served until 2026.2), only where it does
not collide with OpenAI's `GET /v1/models/{name}` (which wins, as in OVMS 2026.3+).

The body is the TFS `GetModelStatusResponse` object, `{"model_version_status": [...]}`.
Registered before the OpenAI model routes so that `…/versions/{v}` reaches it first.
"""

from __future__ import annotations

from aiohttp import web

from ovserve.frontends.rest.jsonio import dumps, json_bytes_response
from ovserve.frontends.rest.state import DATAPLANE


async def model_status(request: web.Request) -> web.Response:
    statuses = request.app[DATAPLANE].version_statuses(
        request.match_info["name"], int(request.match_info["version"])
    )
    return json_bytes_response(dumps({"model_version_status": [s.to_json() for s in statuses]}))


ROUTES = [web.get(r"/v1/models/{name:.+}/versions/{version:[0-9]+}", model_status)]
