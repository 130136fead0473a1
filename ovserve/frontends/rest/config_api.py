"""`GET /v1/config`: the status of every graph and model (OVMS spec §2.1)."""

from __future__ import annotations

from aiohttp import web

from ovserve.frontends.rest.state import REPOSITORY
from ovserve.status import status_document


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(status_document(request.app[REPOSITORY].statuses()))


ROUTES = [web.get("/v1/config", get_config)]
