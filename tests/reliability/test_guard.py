"""`RequestGuard` on its own: immediate refusal at the bound, timeouts, bookkeeping."""

from __future__ import annotations

import asyncio

import pytest

from ovserve.admission import RequestGuard
from ovserve.config import RequestLimits
from ovserve.errors import DeadlineExceeded, InvalidArgument, ResourceExhausted
from ovserve.graph import request_scope


async def test_refuses_at_the_bound_at_once_and_admits_again_after() -> None:
    guard = RequestGuard(RequestLimits(max_inflight_requests=2))
    release = asyncio.Event()

    async def held() -> str:
        await release.wait()
        return "done"

    running = [asyncio.create_task(guard.run("g", held)) for _ in range(2)]
    await asyncio.sleep(0)
    assert guard.inflight("g") == 2
    started = asyncio.get_running_loop().time()
    with pytest.raises(ResourceExhausted, match="Servable g is overloaded: 2 requests already in flight"):
        await guard.run("g", held)
    assert asyncio.get_running_loop().time() - started < 0.05
    assert await guard.run("other", lambda: asyncio.sleep(0, "free")) == "free"  # bounds are per servable
    release.set()
    assert await asyncio.gather(*running) == ["done", "done"]
    assert guard.inflight("g") == 0
    assert await guard.run("g", lambda: asyncio.sleep(0, "again")) == "again"


async def test_timeout_is_unavailable_and_frees_the_slot() -> None:
    guard = RequestGuard(RequestLimits(request_timeout_seconds=0.01, max_inflight_requests=1))
    with pytest.raises(DeadlineExceeded, match=r"request to g timed out after 0\.01 s"):
        await guard.run("g", lambda: asyncio.sleep(5))
    assert guard.inflight("g") == 0


async def test_a_timeout_raised_by_the_work_itself_is_not_the_deadline() -> None:
    guard = RequestGuard(RequestLimits(request_timeout_seconds=5))

    async def fails() -> None:
        raise TimeoutError("inner")

    with pytest.raises(TimeoutError, match="inner"):
        await guard.run("g", fails)


async def test_errors_of_the_work_free_the_slot_and_inputs_limit() -> None:
    guard = RequestGuard(RequestLimits(max_inputs_per_request=2))

    async def bad() -> None:
        raise InvalidArgument("no")

    with pytest.raises(InvalidArgument):
        await guard.run("g", bad)
    assert guard.inflight("g") == 0
    guard.check_inputs(2)
    with pytest.raises(InvalidArgument, match="request has 3 inputs, more than the limit of 2"):
        guard.check_inputs(3)
    RequestGuard(RequestLimits(max_inputs_per_request=0)).check_inputs(10**6)


async def test_the_request_scope_names_the_servable_admitted_or_refused() -> None:
    """The access log reads `RequestScope.servable`: set for an admitted request and for one
    refused at the bound (the operator wants to see which servable was overloaded)."""
    guard = RequestGuard(RequestLimits(max_inflight_requests=1, max_tokens_per_request=7))
    release = asyncio.Event()

    async def held() -> None:
        await release.wait()

    running = asyncio.create_task(guard.run("busy", held))
    await asyncio.sleep(0)
    refused = request_scope.RequestScope()
    with request_scope.entered(refused), pytest.raises(ResourceExhausted):
        await guard.run("busy", held)
    assert refused.servable == "busy"
    admitted = request_scope.RequestScope()

    async def seen() -> request_scope.RequestScope | None:
        return request_scope.current()

    with request_scope.entered(admitted):
        assert await guard.run("free", seen) is admitted  # the front end's own scope, not a new one
    assert (admitted.servable, admitted.max_tokens) == ("free", 7)
    # Without a front end's scope the work still runs in one that carries the limit.
    inner = await guard.run("free", seen)
    assert inner is not None
    assert (inner.servable, inner.max_tokens) == ("free", 7)
    release.set()
    await running
