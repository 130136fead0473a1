"""gRPC server interceptor and method wrappers: API key, access log, metrics labels (the REST
middleware's counterparts).

`ApiKeyInterceptor` refuses every RPC but `ServerLive`/`ServerReady` without metadata
`authorization: Bearer <key>` (UNAUTHENTICATED, before the request is decoded; a refused
stream first waits up to a second for its first message, so the client's write lands).
`access_logged` echoes the client's `x-request-id` in initial metadata, or creates one and
returns it in trailing metadata, and logs one JSON line per unary RPC on `ovserve.access` (with
`model` when the RPC was admitted to one); a stream is logged once, when it ends. (Initial
metadata sent on its own is one more operation of the call, measured at ~8% of the loop's
Python time under load; trailing metadata goes out with the status. A client that wants the
id before the answer sends its own.)
`metrics_labelled` labels each RPC for `ovserve.metrics` (api KServe, interface gRPC).
The two are method wrappers, applied to each method's handler once at start-up
(`ovserve.frontends.grpc.make_server`); the API key stays an interceptor, the one place that
sees a call before its request is decoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc

from ovserve.frontends import access_log
from ovserve.frontends.request_ids import request_id_of
from ovserve.graph import request_scope
from ovserve.metrics import CALL, Metrics, grpc_call
from ovserve.security.api_key import UNAUTHORIZED_MESSAGE, ApiKey

OPEN_METHODS = frozenset({"ServerLive", "ServerReady"})
Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]]


def _metadata(pairs: Iterable[tuple[str, Any]] | None, key: str) -> str | None:
    """The value of metadata `key` among a call's `(name, value)` pairs (None when absent)."""
    for name, value in pairs or ():
        if name == key:
            return str(value)
    return None


def _method_name(details: grpc.HandlerCallDetails) -> str:
    return str(details.method).rsplit("/", 1)[-1]


FIRST_MESSAGE_WAIT_SECONDS = 1.0
"""How long a refused stream waits for the client's first message (see `_deny_stream`)."""


async def _deny(request: Any, context: grpc.aio.ServicerContext) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, UNAUTHORIZED_MESSAGE)


async def _deny_stream(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> None:
    """Refuse a stream after its first message (raw bytes, never decoded) has arrived.

    Ending the stream before the client's first write lands makes grpcio's asyncio client
    report its own `INTERNAL: Internal error from Core` instead of our status, in about one
    call in a hundred (grpc/grpc#36066). Waiting, briefly, for that message lets the usual
    write-then-read client see UNAUTHENTICATED every time.
    """
    with contextlib.suppress(StopAsyncIteration, TimeoutError):
        await asyncio.wait_for(anext(aiter(requests)), FIRST_MESSAGE_WAIT_SECONDS)
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, UNAUTHORIZED_MESSAGE)


MethodWrapper = Callable[[str, grpc.RpcMethodHandler], grpc.RpcMethodHandler]
"""Wraps the handler of one method (by its name, e.g. `ModelInfer`) in a behaviour of its own."""


class ApiKeyInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Checks metadata `authorization` in constant time (see `ovserve.security.api_key`)."""

    def __init__(self, key: ApiKey, wrap: MethodWrapper | None = None) -> None:
        """`wrap`: what the served methods are wrapped in (access log, metrics labels), applied
        to the refusal too, so that a refused call is logged and labelled as any other."""
        self._key = key
        self._wrap = wrap

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or _method_name(details) in OPEN_METHODS:
            return handler
        if self._key.accepts(_metadata(details.invocation_metadata, "authorization")):
            return handler
        if handler.stream_stream is not None:
            # No request deserializer: the refused stream's message stays raw bytes.
            refusal = grpc.stream_stream_rpc_method_handler(_deny_stream)
        else:
            refusal = grpc.unary_unary_rpc_method_handler(_deny)
        return self._wrap(_method_name(details), refusal) if self._wrap is not None else refusal


def wrap_methods(*wrappers: MethodWrapper) -> MethodWrapper:
    """One wrapper applying `wrappers` around a handler, the first outermost."""

    def wrapped(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        for wrapper in reversed(wrappers):
            handler = wrapper(method, handler)
        return handler

    return wrapped


def access_logged(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """`handler` with a request id and one structured log line per RPC (a stream: per stream).

    Made once per method at start-up, not per RPC as an interceptor is: grpc.aio awaits each
    interceptor's coroutine and its continuation for every call, which under W2 cost ~0.1 ms of
    the loop's CPU per RPC together with the line itself.
    """
    if handler.stream_stream is not None:
        return handler._replace(stream_stream=_logged_stream(handler.stream_stream, method))
    if handler.unary_unary is None:
        return handler
    inner = handler.unary_unary

    async def logged(request: Any, context: grpc.aio.ServicerContext) -> Any:
        started = time.perf_counter()
        offered = _metadata(context.invocation_metadata(), "x-request-id")
        request_id = request_id_of(offered)
        echoed = request_id == offered
        code = grpc.StatusCode.OK
        scope = request_scope.RequestScope()
        try:
            if echoed:
                await context.send_initial_metadata((("x-request-id", request_id),))
            with request_scope.entered(scope):
                response = await inner(request, context)
            timings = scope.timings_ms()
            trailing: tuple[tuple[str, str], ...] = () if echoed else (("x-request-id", request_id),)
            if timings:  # as the REST headers, in trailing metadata
                trailing += tuple((f"x-{name}-time", f"{value:.3f}") for name, value in timings.items())
            if trailing:
                context.set_trailing_metadata(trailing)
            return response
        except BaseException:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        finally:
            _log(method, request_id, code, started, context.peer(), scope.timings_ms(), scope.servable)

    return handler._replace(unary_unary=logged)


def metrics_labelled(metrics: Metrics) -> MethodWrapper:
    """A wrapper that sets `ovserve.metrics.CALL` for each RPC (the data plane and the guard
    record under it) and records the outcome of `ModelMetadata` and `ModelReady` itself.

    grpc.aio runs every RPC in a task of its own, so the value set here is seen by exactly
    this RPC's handler (a stream's requests included) and by nothing else.
    """

    def wrapper(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        call = grpc_call(method)
        if handler.unary_unary is not None:
            unary = handler.unary_unary

            async def labelled(request: Any, context: grpc.aio.ServicerContext) -> Any:
                CALL.set(call)
                if not call.status:
                    return await unary(request, context)
                ok = False
                try:
                    response = await unary(request, context)
                    ok = True
                    return response
                finally:
                    # A call the API key refused has no decoded request (its bytes never are).
                    if not isinstance(request, bytes):
                        metrics.status_answered(call, request.name, request.version or None, ok)

            return handler._replace(unary_unary=labelled)
        if handler.stream_stream is not None:
            stream = handler.stream_stream

            async def labelled_stream(requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                CALL.set(call)
                async for response in stream(requests, context):
                    yield response

            return handler._replace(stream_stream=labelled_stream)
        return handler

    return wrapper


def _logged_stream(inner: Any, method: str) -> Any:
    """`inner` (a bidi-stream behaviour) with the request id echoed and one log line at its end."""

    async def logged(requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        started = time.perf_counter()
        request_id = request_id_of(_metadata(context.invocation_metadata(), "x-request-id"))
        code = grpc.StatusCode.OK
        try:
            await context.send_initial_metadata((("x-request-id", request_id),))
            behaviour = inner(requests, context)
            if hasattr(behaviour, "__aiter__"):
                async for response in behaviour:
                    yield response
            else:  # a coroutine that writes through `context` or only sets a status (API key denial)
                await behaviour
        except BaseException:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        finally:
            _log(method, request_id, code, started, context.peer(), {})

    return logged


def _log(
    method: str,
    request_id: str,
    code: Any,
    started: float,
    peer: str,
    timings: dict[str, float],
    servable: str = "",
) -> None:
    """One access-log line; `model` only for an RPC admitted to a servable (as on REST)."""
    if not access_log.enabled():
        return
    access_log.log_request(
        {
            "protocol": "grpc",
            "request_id": request_id,
            "method": method,
            **({"model": servable} if servable else {}),
            "status": getattr(code, "name", str(code)),
            "total_ms": round((time.perf_counter() - started) * 1000, 3),
            **{f"{name}_ms": round(value, 3) for name, value in timings.items()},
            "remote": peer,
        }
    )
