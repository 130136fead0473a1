"""The one place where the error taxonomy becomes HTTP.

`error_middleware` turns every `OvserveError` into the status of `HTTP_STATUS` and the body
shape of the route's protocol: OpenAI routes (`/v3/…`, `/v1/embeddings`…) get
`{"error": {"message", "type", "code"}}`, TEI's routes (`/embed`, …) `{"error", "error_type"}`,
every other route gets KServe's `{"error": "…"}`.
aiohttp's own 404/405 get the same treatment, so no route ever answers with HTML, and an
unexpected exception becomes a logged 500 with a generic message, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ovserve.errors import ErrorCode, OvserveError
from ovserve.frontends.guard import RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_ARGUMENT: 400,
    ErrorCode.FAILED_PRECONDITION: 412,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.RESOURCE_EXHAUSTED: 429,
    ErrorCode.DEADLINE_EXCEEDED: 504,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.UNIMPLEMENTED: 501,
    ErrorCode.INTERNAL: 500,
}

_OPENAI_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    412: "invalid_request_error",
    429: "rate_limit_error",
}

# TEI's error kinds, by status.
_TEI_TYPES: dict[int, str] = {429: "Overloaded", 503: "Unhealthy"}
_TEI_PATHS = ("/embed", "/similarity", "/info", "/health")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_openai_path(path: str) -> bool:
    """Routes whose errors use the OpenAI body: all of `/v3/`, and OpenAI's `/v1/` routes.

    `/v1/models/{name}/versions/{v}` is TensorFlow Serving's status route, not OpenAI's.
    """
    if path.startswith(("/v3/", "/v1/embeddings", "/v1/tokenize")):
        return True
    return path.startswith("/v1/models") and "/versions/" not in path


def error_response(
    path: str, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, object]
    if path in _TEI_PATHS:
        body = {
            "error": message,
            "error_type": _TEI_TYPES.get(status, "Backend" if status >= 500 else "Validation"),
        }
    elif is_openai_path(path):
        kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        body = {"error": {"message": message, "type": kind, "code": status}}
    else:
        body = {"error": message}
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except OvserveError as exc:
        status = HTTP_STATUS[exc.code]
        # 429 is only raised by admission control: tell clients when to come back (as Ray does).
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 429 else None
        return error_response(request.path, status, exc.message, retry)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        message = "Requested REST resource not found" if exc.status == 404 else exc.reason
        if exc.status == 413:
            # aiohttp's text names the limit and the size: "Maximum request body size N exceeded, …"
            message = f"Request body too large: {exc.text}"
        return error_response(request.path, exc.status, message, headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(request.path, 500, "Internal server error")
