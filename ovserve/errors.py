"""The one error taxonomy of ovserve.

Every layer below the front ends raises `OvserveError` (or a subclass) and nothing else on
purpose. Each front end maps `ErrorCode` exactly once: REST in `ovserve.frontends.rest.errors`
(HTTP status and body shape per protocol), gRPC in `ovserve.frontends.grpc.errors`. This module
imports no web or RPC framework so that the core layers stay free of them.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.Enum):
    """A small closed set of error kinds; front ends translate these and only these."""

    INVALID_ARGUMENT = "invalid_argument"
    """The request is malformed or its content is not acceptable (HTTP 400)."""
    FAILED_PRECONDITION = "failed_precondition"
    """The request body cannot be routed: not JSON, no `model` (HTTP 412, as OVMS)."""
    NOT_FOUND = "not_found"
    """No servable, version or route of that name (HTTP 404)."""
    UNAVAILABLE = "unavailable"
    """The servable exists but is not ready: loading, failed or retired (HTTP 503)."""
    RESOURCE_EXHAUSTED = "resource_exhausted"
    """Overload: the servable has its limit of requests in flight (HTTP 429 + Retry-After)."""
    PAYLOAD_TOO_LARGE = "payload_too_large"
    """The request is larger than a size limit (HTTP 413; gRPC's RESOURCE_EXHAUSTED)."""
    DEADLINE_EXCEEDED = "deadline_exceeded"
    """The request did not finish within the configured time (HTTP 504)."""
    UNAUTHENTICATED = "unauthenticated"
    """Missing or wrong API key (HTTP 401)."""
    UNIMPLEMENTED = "unimplemented"
    """The operation exists in the protocol but not for this servable (HTTP 501)."""
    INTERNAL = "internal"
    """A bug or an unexpected failure; details go to the log, not to the client (HTTP 500)."""


class OvserveError(Exception):
    """Base of every error ovserve raises on purpose.

    Args:
        message: a sentence meant for the client; it must not contain a traceback.
        code: the taxonomy entry the front ends map to a status.
    """

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InvalidArgument(OvserveError):
    code = ErrorCode.INVALID_ARGUMENT


class FailedPrecondition(OvserveError):
    code = ErrorCode.FAILED_PRECONDITION


class NotFound(OvserveError):
    code = ErrorCode.NOT_FOUND


class Unavailable(OvserveError):
    code = ErrorCode.UNAVAILABLE


class ResourceExhausted(OvserveError):
    code = ErrorCode.RESOURCE_EXHAUSTED


class PayloadTooLarge(OvserveError):
    code = ErrorCode.PAYLOAD_TOO_LARGE


class DeadlineExceeded(OvserveError):
    code = ErrorCode.DEADLINE_EXCEEDED


class Unauthenticated(OvserveError):
    code = ErrorCode.UNAUTHENTICATED


class Unimplemented(OvserveError):
    code = ErrorCode.UNIMPLEMENTED


class InternalError(OvserveError):
    code = ErrorCode.INTERNAL


class ConfigError(InvalidArgument):
    """A configuration file, graph or command line is invalid.

    The message names the file, the location in it (a JSON path such as
    `model_config_list[0].config.base_path`, or line:column) and what was expected.
    """
