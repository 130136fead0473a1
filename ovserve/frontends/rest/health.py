"""KServe v2 health routes (`/v2/health/live`, `/v2/health/ready`); never behind an API key."""

from __future__ import annotations

from aiohttp import web

from ovserve.errors import Unavailable
from ovserve.frontends.rest.state import DATAPLANE


async def live(request: web.Request) -> web.Response:
    """200 as long as the REST front end answers."""
    return web.Response(status=200)


async def ready(request: web.Request) -> web.Response:
    """200 once start-up has finished loading the workspace (every entry AVAILABLE or failed),
    else 503 `Server is not ready`."""
    if not request.app[DATAPLANE].ready():
        raise Unavailable("Server is not ready")
    return web.Response(status=200)


ROUTES = [web.get("/v2/health/live", live), web.get("/v2/health/ready", ready)]
