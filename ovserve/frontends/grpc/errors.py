"""The one place where the error taxonomy becomes gRPC status codes.

`GRPC_STATUS` maps every `ErrorCode`; `rpc_errors` wraps every unary RPC handler of the
service, so a handler (and everything below it) just raises `OvserveError`. An unexpected
exception becomes `INTERNAL` with the generic OVMS text, and its traceback goes to the log,
never to the client. The bidirectional stream reports per-request failures in
`error_message` instead of ending the call; it uses `describe` for the same texts.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
from google.protobuf.message import DecodeError, Message

from ovserve.admission import RETRY_AFTER_SECONDS
from ovserve.errors import ErrorCode, InvalidArgument, OvserveError

log = logging.getLogger(__name__)

GRPC_STATUS: dict[ErrorCode, grpc.StatusCode] = {
    ErrorCode.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorCode.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    # gRPC's own answer to a message over its limit.
    ErrorCode.PAYLOAD_TOO_LARGE: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.DEADLINE_EXCEEDED: grpc.StatusCode.DEADLINE_EXCEEDED,
    ErrorCode.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorCode.UNIMPLEMENTED: grpc.StatusCode.UNIMPLEMENTED,
    ErrorCode.INTERNAL: grpc.StatusCode.INTERNAL,
}

INTERNAL_MESSAGE = "Internal server error"
RETRY_PUSHBACK = (("grpc-retry-pushback-ms", str(RETRY_AFTER_SECONDS * 1000)),)

Request = TypeVar("Request")
Response = TypeVar("Response")
UnaryHandler = Callable[[Request, grpc.aio.ServicerContext], Awaitable[Response]]


def describe(exc: Exception, method: str) -> tuple[grpc.StatusCode, str]:
    """The status and client-facing message of `exc`; logs unexpected ones with a traceback."""
    if isinstance(exc, OvserveError):
        return GRPC_STATUS[exc.code], exc.message
    log.error("unhandled error in gRPC %s", method, exc_info=exc)
    return grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE


class Undecodable:
    """Stands for a request message that did not parse (see `lenient`).

    gRPC itself would end such a call with UNKNOWN and log a traceback; handlers wrapped by
    `rpc_errors` (and the stream loop, through `check_decoded`) answer INVALID_ARGUMENT instead.
    """

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name


def lenient(message_type: type[Message]) -> Callable[[bytes], Message | Undecodable]:
    """A request deserializer that returns `Undecodable` instead of raising."""
    name = message_type.DESCRIPTOR.full_name

    def parse(data: bytes) -> Message | Undecodable:
        try:
            return message_type.FromString(data)
        except DecodeError:
            return Undecodable(name)

    return parse


def check_decoded(request: object) -> None:
    """Raises `InvalidArgument` when `request` is `Undecodable`."""
    if isinstance(request, Undecodable):
        raise InvalidArgument(f"request is not a valid {request.type_name} message")


def rpc_errors(handler: UnaryHandler[Request, Response]) -> UnaryHandler[Request, Response]:
    """Wrap a unary handler: exceptions end the call with the mapped status and message."""

    @functools.wraps(handler)
    async def wrapped(request: Request, context: grpc.aio.ServicerContext) -> Response:
        try:
            check_decoded(request)
            return await handler(request, context)
        except Exception as exc:
            # abort() raises to end the RPC; it must not be caught again here.
            code, message = describe(exc, handler.__name__)
            # Admission control's refusal: gRPC's retry pushback trailer is the counterpart of
            # REST's Retry-After.
            overloaded = isinstance(exc, OvserveError) and exc.code == ErrorCode.RESOURCE_EXHAUSTED
            trailers = RETRY_PUSHBACK if overloaded else ()
            await context.abort(code, message, trailing_metadata=trailers)
            raise AssertionError("unreachable: abort() raises") from exc

    return wrapped
