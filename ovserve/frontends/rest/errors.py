"""The one place where the error taxonomy becomes HTTP.

`error_middleware` turns every `OvserveError` into the status of `HTTP_STATUS` (a body over
the size limit too, as PAYLOAD_TOO_LARGE) and the body of the route's protocol: each protocol
module registers its routes with its own `ErrorBody` (`ErrorBodies.add_routes`; OpenAI's in
`openai.py`, TEI's in `tei.py`); every other route gets KServe's `{"error": "…"}`.
aiohttp's own 404/405 get the same treatment, so no route ever answers with HTML, and an
unexpected exception becomes a logged 500 with a generic message, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractResource

from ovserve.admission import RETRY_AFTER_SECONDS
from ovserve.errors import ErrorCode, OvserveError, PayloadTooLarge

log = logging.getLogger(__name__)

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_ARGUMENT: 400,
    ErrorCode.FAILED_PRECONDITION: 412,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.RESOURCE_EXHAUSTED: 429,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.DEADLINE_EXCEEDED: 504,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.UNIMPLEMENTED: 501,
    ErrorCode.INTERNAL: 500,
}

ErrorBody = Callable[[int, str], dict[str, object]]
"""A protocol's error body for (HTTP status, message); each protocol module defines its own."""


def kserve_error_body(status: int, message: str) -> dict[str, object]:
    """KServe's (and OVMS's) `{"error": "…"}`: the body of every route that claims no other."""
    return {"error": message}


class ErrorBodies:
    """Which error body each route answers with, as its protocol module registered it.

    A request that matched a route gets that route's body; one whose path matched a route but
    not its method (405) gets the body of the route it matched by path; anything else (404 of
    an unknown path) gets KServe's.
    """

    def __init__(self) -> None:
        self._by_resource: dict[AbstractResource, ErrorBody] = {}

    def add_routes(
        self, app: web.Application, routes: Iterable[web.RouteDef], body: ErrorBody = kserve_error_body
    ) -> None:
        """Add `routes` to `app`'s router, their errors rendered by `body`."""
        for route in app.router.add_routes(routes):
            if route.resource is not None:
                self._by_resource[route.resource] = body

    async def of(self, request: web.Request) -> ErrorBody:
        resource = request.match_info.route.resource
        if resource is None and isinstance(request.match_info.http_exception, web.HTTPMethodNotAllowed):
            for candidate in self._by_resource:
                _, allowed = await candidate.resolve(request)
                if allowed:
                    resource = candidate
                    break
        return self._by_resource.get(resource, kserve_error_body) if resource else kserve_error_body


ERROR_BODIES = web.AppKey("error_bodies", ErrorBodies)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(
    body: ErrorBody, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body(status, message), status=status, headers=headers)


async def _error_response(
    request: web.Request, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    bodies = request.app.get(ERROR_BODIES)
    body = await bodies.of(request) if bodies is not None else kserve_error_body
    return error_response(body, status, message, headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge as exc:
        # aiohttp's text names the limit and the size: "Maximum request body size N exceeded, …"
        return await _error(request, PayloadTooLarge(f"Request body too large: {exc.text}"))
    except OvserveError as exc:
        return await _error(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        message = "Requested REST resource not found" if exc.status == 404 else exc.reason
        return await _error_response(request, exc.status, message, headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await _error_response(request, 500, "Internal server error")


async def _error(request: web.Request, exc: OvserveError) -> web.Response:
    status = HTTP_STATUS[exc.code]
    # Only admission control raises RESOURCE_EXHAUSTED: tell clients when to come back.
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.code == ErrorCode.RESOURCE_EXHAUSTED else None
    return await _error_response(request, status, exc.message, retry)
