"""The error taxonomy through a real aiohttp server: every `ErrorCode` row, on each protocol.

The REST twin of `tests/grpc/test_errors.py`. The rows are raised by a data plane double
(`tests/support/scripted.py`), so that each code is reachable; everything between it and the
client (the application, its middlewares, `HTTP_STATUS`, each protocol's error body) is real.
The application has a 64 KiB body limit, to show an over-limit body goes through the table too.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from ovserve.config import RequestLimits, ServerConfig
from ovserve.errors import ErrorCode
from ovserve.frontends.rest import make_app
from ovserve.frontends.rest.errors import HTTP_STATUS
from tests.rest.support import call, openai_error
from tests.support.scripted import CRASH_DETAIL, ScriptedDataPlane

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMIT = 64 * 1024
INFER_BODY = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1.0]}]}
EXPECTED = {
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


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def base_url() -> AsyncIterator[str]:
    config = ServerConfig(limits=RequestLimits(max_body_bytes=LIMIT))
    runner = web.AppRunner(make_app(ScriptedDataPlane(), config))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_every_error_code_has_a_status() -> None:
    assert HTTP_STATUS == EXPECTED


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
async def test_each_error_code_ends_kserve_infer_with_its_status_and_body(
    session: aiohttp.ClientSession, base_url: str, code: ErrorCode
) -> None:
    status, body, response = await call(
        session, "POST", f"{base_url}/v2/models/{code.name}/infer", body=INFER_BODY
    )
    assert (status, body) == (EXPECTED[code], {"error": f"scripted {code.name}"})
    assert ("Retry-After" in response.headers) == (code == ErrorCode.RESOURCE_EXHAUSTED)


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
async def test_each_error_code_ends_an_openai_call_with_its_status_in_openai_shape(
    session: aiohttp.ClientSession, base_url: str, code: ErrorCode
) -> None:
    body = {"model": code.name, "input": "hello"}
    status, answer, _ = await call(session, "POST", f"{base_url}/v3/embeddings", body=body)
    assert (status, openai_error(answer)) == (EXPECTED[code], f"scripted {code.name}")
    assert answer["error"]["code"] == EXPECTED[code]


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
async def test_each_error_code_ends_a_tei_call_with_its_status_in_tei_shape(
    session: aiohttp.ClientSession, base_url: str, code: ErrorCode
) -> None:
    body = {"model": code.name, "inputs": "hello"}
    status, answer, _ = await call(session, "POST", f"{base_url}/embed", body=body)
    assert status == EXPECTED[code]
    assert set(answer) == {"error", "error_type"}
    assert answer["error"] == f"scripted {code.name}"


async def test_an_unexpected_exception_is_a_500_with_a_generic_message_and_a_logged_traceback(
    session: aiohttp.ClientSession, base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="ovserve.frontends.rest.errors"):
        status, body, _ = await call(session, "POST", f"{base_url}/v2/models/crash/infer", body=INFER_BODY)
    assert (status, body) == (500, {"error": "Internal server error"})
    (record,) = caplog.records
    assert record.exc_info is not None
    assert CRASH_DETAIL in str(record.exc_info[1])


@pytest.mark.parametrize(
    ("path", "shape"),
    [("/v2/models/ok/infer", "kserve"), ("/v3/embeddings", "openai"), ("/embed", "tei")],
)
async def test_a_body_over_the_limit_is_413_through_the_table_in_the_protocol_shape(
    session: aiohttp.ClientSession, base_url: str, path: str, shape: str
) -> None:
    headers = {"Content-Type": "application/json"}
    status, body, _ = await call(session, "POST", base_url + path, data=b" " * (LIMIT + 1), headers=headers)
    assert status == HTTP_STATUS[ErrorCode.PAYLOAD_TOO_LARGE] == 413
    message = openai_error(body) if shape == "openai" else body["error"]
    assert message.startswith("Request body too large")
    assert shape != "tei" or set(body) == {"error", "error_type"}
    status, _, _ = await call(session, "POST", f"{base_url}/v2/models/ok/infer", body=INFER_BODY)
    assert status == 200
