"""Builds the aiohttp application: middleware, typed state and the route table."""

from __future__ import annotations

from aiohttp import web

from ovserve.frontends.rest import config_api, health
from ovserve.frontends.rest.errors import error_middleware
from ovserve.frontends.rest.state import REPOSITORY
from ovserve.repository import Repository


def make_app(repository: Repository) -> web.Application:
    """The REST application over one repository; handlers reach it through `REPOSITORY`."""
    app = web.Application(middlewares=[error_middleware])
    app[REPOSITORY] = repository
    app.router.add_routes(health.ROUTES)
    app.router.add_routes(config_api.ROUTES)
    return app
