"""Builds the aiohttp application: middleware, typed state and the route tables."""

from __future__ import annotations

from aiohttp import web

from ovserve.config import ServerConfig
from ovserve.dataplane import DataPlane
from ovserve.frontends.guard import RequestGuard
from ovserve.frontends.rest import (
    config_api,
    docs,
    health,
    kserve_v2,
    model_config,
    models_api,
    openai,
    openapi,
    tei,
    tfs,
)
from ovserve.frontends.rest.errors import error_middleware
from ovserve.frontends.rest.middleware import (
    METRICS,
    access_middleware,
    auth_middleware,
    cors_middleware,
    metrics_middleware,
)
from ovserve.frontends.rest.state import ACCESS_LOG, API_KEY, CORS, DATAPLANE, GUARD, REPOSITORY
from ovserve.metrics import Metrics
from ovserve.repository import Repository
from ovserve.security.api_key import ApiKey


def make_app(
    repository: Repository,
    dataplane: DataPlane,
    config: ServerConfig | None = None,
    guard: RequestGuard | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    """The REST application over one repository and the data plane serving it.

    Handlers reach them through `REPOSITORY` and `DATAPLANE`; inference goes through `GUARD`
    (shared with gRPC when the server passes one). Route tables are added in an order where
    the specific routes come before the catch-all V3 dispatcher.

    With `metrics`, `GET /metrics` serves them and requests are labelled for them; without,
    it answers 400 `Invalid request URL` as OVMS does.

    OVMS sets a 1 GB body limit; ovserve's default is `RequestLimits.max_body_bytes` (64 MiB,
    `--max_request_bytes`), enough for thousands of pre-tokenized documents. Larger: 413.
    """
    config = config if config is not None else ServerConfig()
    app = web.Application(
        middlewares=[
            access_middleware,
            cors_middleware,
            error_middleware,
            auth_middleware,
            metrics_middleware,
        ],
        client_max_size=config.limits.max_body_bytes,
    )
    app[REPOSITORY] = repository
    app[DATAPLANE] = dataplane
    app[GUARD] = guard if guard is not None else RequestGuard(config.limits)
    app[CORS] = config.cors
    app[ACCESS_LOG] = config.access_log
    if config.api_key:
        app[API_KEY] = ApiKey(config.api_key)
    if metrics is not None:
        app[METRICS] = metrics
    app.router.add_routes(health.ROUTES)
    app.router.add_routes(config_api.ROUTES)
    app.router.add_routes(tfs.ROUTES)
    app.router.add_routes(models_api.ROUTES)
    model_config.register(app)  # before KServe's catch-all /v2/models/{path}
    app.router.add_routes(kserve_v2.ROUTES)
    app.router.add_routes(openapi.ROUTES)
    app.router.add_routes(docs.ROUTES)
    app.router.add_routes(openai.ROUTES)
    app.router.add_routes(tei.ROUTES)
    return app
