"""Builds the aiohttp application: middleware, typed state and the route tables."""

from __future__ import annotations

from aiohttp import web

from ovserve.config import ServerConfig
from ovserve.dataplane import DataPlane
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
    tei_tokens,
    tfs,
)
from ovserve.frontends.rest.errors import ERROR_BODIES, ErrorBodies, error_middleware
from ovserve.frontends.rest.middleware import (
    METRICS,
    access_middleware,
    auth_middleware,
    cors_middleware,
    metrics_middleware,
)
from ovserve.frontends.rest.state import ACCESS_LOG, API_KEY, CORS, DATAPLANE
from ovserve.metrics import Metrics
from ovserve.security.api_key import ApiKey


def make_app(
    dataplane: DataPlane, config: ServerConfig | None = None, metrics: Metrics | None = None
) -> web.Application:
    """The REST application over the data plane (shared with gRPC when the server makes both).

    Handlers reach it through `DATAPLANE`, their only door to what is served. Route tables are
    added in an order where the specific routes come before the catch-all V3 dispatcher.

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
    app[DATAPLANE] = dataplane
    app[CORS] = config.cors
    app[ACCESS_LOG] = config.access_log
    if config.api_key:
        app[API_KEY] = ApiKey(config.api_key)
    if metrics is not None:
        app[METRICS] = metrics
    # Each protocol's routes answer errors in that protocol's body (KServe's by default).
    bodies = app[ERROR_BODIES] = ErrorBodies()
    bodies.add_routes(app, health.ROUTES)
    bodies.add_routes(app, config_api.ROUTES)
    bodies.add_routes(app, tfs.ROUTES)
    bodies.add_routes(app, models_api.ROUTES, openai.error_body)  # OpenAI's /v1/models, /v3/models
    model_config.register(app)  # before KServe's catch-all /v2/models/{path}
    bodies.add_routes(app, kserve_v2.ROUTES)
    bodies.add_routes(app, openapi.ROUTES)
    bodies.add_routes(app, docs.ROUTES)
    bodies.add_routes(app, openai.ROUTES, openai.error_body)
    bodies.add_routes(app, tei.ROUTES, tei.error_body)
    bodies.add_routes(app, tei_tokens.ROUTES, tei.error_body)
    return app
