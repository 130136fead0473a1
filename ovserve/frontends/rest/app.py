"""Builds the aiohttp application: middleware, typed state and the route tables."""

from __future__ import annotations

from aiohttp import web

from ovserve.dataplane import DataPlane
from ovserve.frontends.rest import config_api, health, kserve_v2, models_api, openai, tfs
from ovserve.frontends.rest.errors import error_middleware
from ovserve.frontends.rest.state import DATAPLANE, REPOSITORY
from ovserve.repository import Repository

# OVMS sets no body limit of its own; aiohttp's 1 MiB default would refuse a few hundred
# pre-tokenized documents. Larger bodies get 413.
MAX_BODY_BYTES = 64 * 1024 * 1024


def make_app(repository: Repository, dataplane: DataPlane) -> web.Application:
    """The REST application over one repository and the data plane serving it.

    Handlers reach them through `REPOSITORY` and `DATAPLANE`. Route tables are added in an
    order where the specific routes come before the catch-all V3 dispatcher.
    """
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY_BYTES)
    app[REPOSITORY] = repository
    app[DATAPLANE] = dataplane
    app.router.add_routes(health.ROUTES)
    app.router.add_routes(config_api.ROUTES)
    app.router.add_routes(tfs.ROUTES)
    app.router.add_routes(models_api.ROUTES)
    app.router.add_routes(kserve_v2.ROUTES)
    app.router.add_routes(openai.ROUTES)
    return app
