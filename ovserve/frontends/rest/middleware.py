"""REST middleware around the error mapping: access log, CORS, API key, metrics.

Order (outermost first): `access_middleware` (request id, `X-Total-Time` and the phase times
of a graph request, one log line) →
`cors_middleware` (headers on every answer, `OPTIONS` preflight 200) → `error_middleware`
(taxonomy → HTTP, in `errors.py`) → `auth_middleware` (raises `Unauthenticated`, so the
401 gets the route's error body shape) → `metrics_middleware` (serves `GET /metrics`, labels
the request for `ovserve.metrics`). Health routes and preflights never need the key.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from ovserve.errors import InvalidArgument
from ovserve.frontends import access_log
from ovserve.frontends.request_ids import request_id_of
from ovserve.frontends.rest.errors import Handler
from ovserve.frontends.rest.state import ACCESS_LOG, API_KEY, CORS
from ovserve.graph import request_scope
from ovserve.metrics import CALL, CONTENT_TYPE, Metrics, kserve_rest_target, rest_call

REQUEST_ID = "X-Request-Id"
TOTAL_TIME = "X-Total-Time"
# As TEI: where a graph request's time went, in ms (3 decimals), in the order of `RequestScope.timings_ms`.
PHASE_HEADERS = ("X-Tokenization-Time", "X-Queue-Time", "X-Inference-Time")
OPEN_PATHS = frozenset({"/v2/health/live", "/v2/health/ready"})
METRICS_PATH = "/metrics"
METRICS = web.AppKey("metrics", Metrics)
"""Present only when metrics are on."""


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Echo or create `X-Request-Id`, add `X-Total-Time` (ms) and, for a request that ran a
    graph, `X-Tokenization-Time` / `X-Queue-Time` / `X-Inference-Time`; log one JSON line
    (with `model`, the servable, for a request that was admitted to one)."""
    started = time.perf_counter()
    request_id = request_id_of(request.headers.get(REQUEST_ID))
    with request_scope.entered(request_scope.RequestScope()) as scope:
        response = await handler(request)
    elapsed_ms = (time.perf_counter() - started) * 1000
    phases = scope.timings_ms()
    if not response.prepared:
        response.headers[REQUEST_ID] = request_id
        response.headers[TOTAL_TIME] = str(round(elapsed_ms))
        if phases:
            for header, value in zip(PHASE_HEADERS, phases.values(), strict=True):
                response.headers[header] = f"{value:.3f}"
    if request.app[ACCESS_LOG] and access_log.enabled():
        access_log.log_request(
            {
                "protocol": "rest",
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                **({"model": scope.servable} if scope.servable else {}),
                "status": response.status,
                "total_ms": round(elapsed_ms, 3),
                **{f"{name}_ms": round(value, 3) for name, value in phases.items()},
                "remote": request.remote,
            }
        )
    return response


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """OVMS CORS: the configured values on every answer; `OPTIONS` on any path is 200, empty."""
    response = web.Response(status=200) if request.method == "OPTIONS" else await handler(request)
    if not response.prepared:
        cors = request.app[CORS]
        response.headers["Access-Control-Allow-Origin"] = cors.allowed_origins
        response.headers["Access-Control-Allow-Methods"] = cors.allowed_methods
        response.headers["Access-Control-Allow-Headers"] = cors.allowed_headers
        if cors.allow_credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"
    return response


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """With an API key configured, every route but the health routes needs `Authorization`.

    Unlike OVMS (which checks only the OpenAI routes), inference, metadata, config and model
    listing are all protected: one rule for every route is easier to audit.
    """
    key = request.app.get(API_KEY)
    if key is not None and request.path not in OPEN_PATHS:
        key.check(request.headers.get("Authorization"))
    return await handler(request)


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`GET /metrics`, the OVMS labels (`ovserve.metrics.context`) of every other request, and
    the outcome of KServe metadata and readiness calls (inference is recorded by the data plane).

    `/metrics` is answered here rather than by a route so that it exists only as OVMS has it:
    with metrics off it is `400 Invalid request URL` (OVMS's answer), and it is not part of
    the API that `/openapi.json` documents. The text is rendered on a worker thread.
    """
    metrics = request.app.get(METRICS)
    if request.path == METRICS_PATH:
        if metrics is None:
            raise InvalidArgument("Invalid request URL")
        if request.method != "GET":
            raise web.HTTPMethodNotAllowed(request.method, ["GET"])
        body = await asyncio.to_thread(metrics.render)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
    if metrics is None:
        return await handler(request)
    call = rest_call(request.method, request.path)
    token = CALL.set(call)
    ok = False
    try:
        response = await handler(request)
        ok = response.status == 200
        return response
    finally:
        CALL.reset(token)
        # Inference is recorded by the data plane; metadata and readiness are answered here.
        target = kserve_rest_target(request.path) if call is not None and call.status else None
        if call is not None and target is not None:
            metrics.status_answered(call, *target, ok)
