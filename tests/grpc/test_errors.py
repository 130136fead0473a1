"""The error taxonomy through a real grpc.aio server and channel: every `ErrorCode` row.

The rows are raised by a data plane double (`tests/support/scripted.py`), so that each code is
reachable (the real data plane cannot be made to fail with, say, UNAUTHENTICATED); everything
between it and the client — servicer, registration, `rpc_errors`, the stream's
`error_message` — is the real one.
The same server has a 64 KiB message limit, to show an over-limit message is refused cleanly.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.errors import ErrorCode
from ovserve.frontends.grpc import server_options
from ovserve.frontends.grpc.errors import GRPC_STATUS
from ovserve.frontends.grpc.kserve_v2 import KServeServicer
from ovserve.frontends.grpc.service import add_servicer
from tests.grpc.stub import InferenceStub
from tests.grpc.support import rpc_error
from tests.support.scripted import CRASH_DETAIL, ScriptedDataPlane

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMIT = 64 * 1024
EXPECTED = {
    ErrorCode.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorCode.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.PAYLOAD_TOO_LARGE: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.DEADLINE_EXCEEDED: grpc.StatusCode.DEADLINE_EXCEEDED,
    ErrorCode.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorCode.UNIMPLEMENTED: grpc.StatusCode.UNIMPLEMENTED,
    ErrorCode.INTERNAL: grpc.StatusCode.INTERNAL,
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stub() -> AsyncIterator[InferenceStub]:
    server = grpc.aio.server(options=server_options(LIMIT))
    add_servicer(
        server, KServeServicer(ScriptedDataPlane(big_elements=LIMIT))
    )  # 4 × LIMIT bytes: over the send limit
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield InferenceStub(channel)
    finally:
        await server.stop(None)


async def test_every_error_code_has_a_status() -> None:
    assert GRPC_STATUS == EXPECTED


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
async def test_each_error_code_ends_model_infer_with_its_status(stub: InferenceStub, code: ErrorCode) -> None:
    error = await rpc_error(stub.ModelInfer(pb.ModelInferRequest(model_name=code.name)))
    assert (error.code(), error.details()) == (EXPECTED[code], f"scripted {code.name}")


async def test_an_unexpected_exception_is_internal_with_a_generic_message_and_a_logged_traceback(
    stub: InferenceStub, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="ovserve.frontends.grpc.errors"):
        error = await rpc_error(stub.ModelInfer(pb.ModelInferRequest(model_name="crash")))
    assert (error.code(), error.details()) == (grpc.StatusCode.INTERNAL, "Internal server error")
    (record,) = caplog.records
    assert record.exc_info is not None
    assert CRASH_DETAIL in str(record.exc_info[1])


async def test_the_stream_reports_every_error_and_stays_open(stub: InferenceStub) -> None:
    names = [code.name for code in ErrorCode] + ["crash", "ok"]

    async def requests() -> AsyncIterator[pb.ModelInferRequest]:
        for name in names:
            yield pb.ModelInferRequest(model_name=name)

    responses = [r async for r in stub.ModelStreamInfer(requests())]
    messages = [r.error_message for r in responses]
    assert messages == [f"scripted {code.name}" for code in ErrorCode] + ["Internal server error", ""]
    assert responses[-1].infer_response.model_name == "ok"


async def test_a_request_over_the_size_limit_is_resource_exhausted_and_the_server_keeps_serving(
    stub: InferenceStub,
) -> None:
    request = pb.ModelInferRequest(model_name="ok", raw_input_contents=[b"\0" * (LIMIT + 1)])
    error = await rpc_error(stub.ModelInfer(request))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (await stub.ModelInfer(pb.ModelInferRequest(model_name="ok"))).model_name == "ok"


async def test_a_response_over_the_size_limit_is_resource_exhausted(stub: InferenceStub) -> None:
    error = await rpc_error(stub.ModelInfer(pb.ModelInferRequest(model_name="big")))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
