"""Every RPC against a real server on port 0 with tiny real models, through grpc.aio stubs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import numpy as np
import pytest

from ovserve import __version__
from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.frontends.grpc.tensors import CONTENTS_FIELD
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.grpc.support import Input, output_array, raw_request, rpc_error
from tests.support.toys import TYPE_INPUTS

pytestmark = pytest.mark.asyncio(loop_scope="module")

X = np.array([[-1.0, 0.5, 2.0, -3.0], [4.0, -5.0, 6.0, 0.0]], dtype=np.float32)


async def test_server_live_ready_and_metadata(toy_stub: InferenceStub) -> None:
    assert (await toy_stub.ServerLive(pb.ServerLiveRequest())).live
    assert (await toy_stub.ServerReady(pb.ServerReadyRequest())).ready
    meta = await toy_stub.ServerMetadata(pb.ServerMetadataRequest())
    assert (meta.name, meta.version, list(meta.extensions)) == ("OpenVINO Model Server", __version__, [])


@pytest.mark.parametrize(
    ("name", "version", "ready"),
    [("relu", "", True), ("relu", "1", True), ("relu", "2", True), ("broken", "", False)],
)
async def test_model_ready(toy_stub: InferenceStub, name: str, version: str, ready: bool) -> None:
    response = await toy_stub.ModelReady(pb.ModelReadyRequest(name=name, version=version))
    assert response.ready is ready


async def test_model_metadata_names_datatypes_and_shapes(toy_stub: InferenceStub) -> None:
    meta = await toy_stub.ModelMetadata(pb.ModelMetadataRequest(name="relu"))
    assert (meta.name, list(meta.versions), meta.platform) == ("relu", ["1", "2"], "OpenVINO")
    assert [(t.name, t.datatype, list(t.shape)) for t in meta.inputs] == [("x", "FP32", [-1, 4])]
    assert [(t.name, t.datatype, list(t.shape)) for t in meta.outputs] == [
        ("relu", "FP32", [-1, 4]),
        ("double", "FP32", [-1, 4]),
    ]
    types = await toy_stub.ModelMetadata(pb.ModelMetadataRequest(name="types", version="1"))
    assert [t.datatype for t in types.inputs] == [datatype for _, datatype in TYPE_INPUTS.values()]


async def test_raw_and_typed_inputs_give_the_same_answer(toy_stub: InferenceStub) -> None:
    raw = await toy_stub.ModelInfer(raw_request("relu", {"x": ("FP32", X)}, id="r-1"))
    typed_request = pb.ModelInferRequest(model_name="relu", id="t-1")
    typed_request.inputs.append(
        Input(
            name="x", datatype="FP32", shape=[2, 4], contents=pb.InferTensorContents(fp32_contents=X.ravel())
        )
    )
    typed = await toy_stub.ModelInfer(typed_request)
    for response, request_id in ((raw, "r-1"), (typed, "t-1")):
        assert (response.model_name, response.model_version, response.id) == ("relu", "2", request_id)
        assert [(o.name, o.datatype, list(o.shape)) for o in response.outputs] == [
            ("relu", "FP32", [2, 4]),
            ("double", "FP32", [2, 4]),
        ]
        # Responses are always raw, whatever the request used.
        assert len(response.raw_output_contents) == 2
        np.testing.assert_array_equal(output_array(response, "relu"), np.maximum(X, 0) + 1)
        np.testing.assert_array_equal(output_array(response, "double"), 2 * X + 1)


async def test_requested_outputs_and_versions(toy_stub: InferenceStub) -> None:
    request = raw_request("relu", {"x": ("FP32", X)}, model_version="1")
    request.outputs.append(pb.ModelInferRequest.InferRequestedOutputTensor(name="double"))
    response = await toy_stub.ModelInfer(request)
    assert response.model_version == "1"
    assert [o.name for o in response.outputs] == ["double"]
    np.testing.assert_array_equal(output_array(response, "double"), 2 * X)


@pytest.mark.parametrize("raw", [False, True], ids=["typed", "raw"])
async def test_every_datatype_with_a_typed_field(toy_stub: InferenceStub, raw: bool) -> None:
    arrays = {
        name: (datatype, np.array([1, 0, 1]).astype(element.to_dtype()))
        for name, (element, datatype) in TYPE_INPUTS.items()
    }
    if raw:
        request = raw_request("types", arrays)
    else:
        request = pb.ModelInferRequest(model_name="types")
        for name, (datatype, values) in arrays.items():
            tensor = Input(name=name, datatype=datatype, shape=[3])
            getattr(tensor.contents, CONTENTS_FIELD[datatype]).extend(values.tolist())
            request.inputs.append(tensor)
    response = await toy_stub.ModelInfer(request)
    for name, (datatype, values) in arrays.items():
        (entry,) = [o for o in response.outputs if o.name == f"{name}_out"]
        assert entry.datatype == datatype
        np.testing.assert_array_equal(output_array(response, entry.name), values)


async def test_a_hundred_requests_over_one_stream_with_failures_in_between(toy_stub: InferenceStub) -> None:
    async def requests() -> AsyncIterator[pb.ModelInferRequest]:
        for i in range(100):
            if i % 10 == 7:
                yield pb.ModelInferRequest(model_name="nope", id=str(i))
            else:
                yield raw_request("relu", {"x": ("FP32", X * i)}, id=str(i))

    responses = [r async for r in toy_stub.ModelStreamInfer(requests())]
    assert len(responses) == 100
    for i, response in enumerate(responses):
        if i % 10 == 7:
            assert response.error_message == "Model with requested name is not found"
            assert not response.HasField("infer_response")
        else:
            assert response.error_message == ""
            assert response.infer_response.id == str(i)
            np.testing.assert_array_equal(
                output_array(response.infer_response, "relu"), np.maximum(X * i, 0) + 1
            )


async def test_the_stream_answers_each_request_before_the_next_is_sent(toy_stub: InferenceStub) -> None:
    call = toy_stub.ModelStreamInfer()
    await call.write(pb.ModelInferRequest(model_name="relu", model_version="x"))
    first = await call.read()
    assert isinstance(first, pb.ModelStreamInferResponse)
    assert first.error_message == "invalid model version format in request"
    await call.write(raw_request("relu", {"x": ("FP32", X)}))
    second = await call.read()
    assert isinstance(second, pb.ModelStreamInferResponse)
    assert second.infer_response.model_name == "relu"
    await call.done_writing()
    assert await call.read() == grpc.aio.EOF
    assert await call.code() == grpc.StatusCode.OK


ERROR_ROWS = [
    ("unknown model", pb.ModelInferRequest(model_name="nope"), grpc.StatusCode.NOT_FOUND,
     "Model with requested name is not found"),
    ("unknown version", raw_request("relu", {"x": ("FP32", X)}, model_version="9"), grpc.StatusCode.NOT_FOUND,
     "Model with requested version is not found"),
    ("model failed to load", pb.ModelInferRequest(model_name="broken"), grpc.StatusCode.UNAVAILABLE,
     "Model with requested version is not loaded yet"),
    ("malformed version", pb.ModelInferRequest(model_name="relu", model_version="latest"),
     grpc.StatusCode.INVALID_ARGUMENT, "invalid model version format in request"),
    ("missing input", pb.ModelInferRequest(model_name="relu"), grpc.StatusCode.INVALID_ARGUMENT,
     "Invalid number of inputs - Expected: 1; Actual: 0"),
    ("wrong precision", raw_request("relu", {"x": ("FP64", X.astype(np.float64))}),
     grpc.StatusCode.INVALID_ARGUMENT, "Invalid input precision - Expected: FP32; Actual: FP64"),
    ("wrong shape", raw_request("relu", {"x": ("FP32", X.reshape(4, 2))}), grpc.StatusCode.INVALID_ARGUMENT,
     "Inference failed: "),
    ("unknown output", pb.ModelInferRequest(
        model_name="relu", inputs=[Input(name="x", datatype="FP32", shape=[1, 4],
                                         contents=pb.InferTensorContents(fp32_contents=[0, 0, 0, 0]))],
        outputs=[pb.ModelInferRequest.InferRequestedOutputTensor(name="nope")]),
     grpc.StatusCode.INVALID_ARGUMENT, "Output not found in model: nope"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_pb", "code", "message"), [r[1:] for r in ERROR_ROWS], ids=[r[0] for r in ERROR_ROWS]
)
async def test_infer_error_rows(
    toy_stub: InferenceStub, request_pb: pb.ModelInferRequest, code: grpc.StatusCode, message: str
) -> None:
    error = await rpc_error(toy_stub.ModelInfer(request_pb))
    assert error.code() == code
    assert error.details().startswith(message)


@pytest.mark.parametrize(
    ("request_pb", "code", "message"),
    [
        (pb.ModelReadyRequest(name="nope"), grpc.StatusCode.NOT_FOUND,
         "Model with requested name is not found"),
        (pb.ModelReadyRequest(name="relu", version="7"), grpc.StatusCode.NOT_FOUND,
         "Model with requested version is not found"),
        (pb.ModelReadyRequest(name="relu", version="one"), grpc.StatusCode.INVALID_ARGUMENT,
         "invalid model version format in request"),
    ],
)  # fmt: skip
async def test_model_ready_errors(
    toy_stub: InferenceStub, request_pb: pb.ModelReadyRequest, code: grpc.StatusCode, message: str
) -> None:
    error = await rpc_error(toy_stub.ModelReady(request_pb))
    assert (error.code(), error.details()) == (code, message)


@pytest.mark.parametrize(
    ("request_pb", "code", "message"),
    [
        (pb.ModelMetadataRequest(name="nope"), grpc.StatusCode.NOT_FOUND,
         "Model with requested name is not found"),
        (pb.ModelMetadataRequest(name="broken"), grpc.StatusCode.UNAVAILABLE,
         "Model with requested version is not loaded yet"),
        (pb.ModelMetadataRequest(name="relu", version="3"), grpc.StatusCode.NOT_FOUND,
         "Model with requested version is not found"),
    ],
)  # fmt: skip
async def test_model_metadata_errors(
    toy_stub: InferenceStub, request_pb: pb.ModelMetadataRequest, code: grpc.StatusCode, message: str
) -> None:
    error = await rpc_error(toy_stub.ModelMetadata(request_pb))
    assert (error.code(), error.details()) == (code, message)


async def test_rpcs_outside_the_service_are_unimplemented(toy_server: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{toy_server.grpc_port}") as channel:
        # Triton's RepositoryIndex exists in its proto but not in KServe's (ModelConfig is served).
        call = channel.unary_unary("/inference.GRPCInferenceService/RepositoryIndex")
        error = await rpc_error(call(b""))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_the_server_accepts_messages_over_grpcs_default_4_mib(toy_server: Server) -> None:
    rows = 5 * 1024 * 1024 // 16 + 1  # FP32 [rows, 4]: just over 5 MiB
    request = raw_request("relu", {"x": ("FP32", np.ones((rows, 4), dtype=np.float32))})
    request.outputs.append(pb.ModelInferRequest.InferRequestedOutputTensor(name="relu"))
    options = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{toy_server.grpc_port}", options=options) as channel:
        # The server's own limit (--max_grpc_message_bytes) is above 5 MiB: no RESOURCE_EXHAUSTED.
        response = await InferenceStub(channel).ModelInfer(request)
    assert list(response.outputs[0].shape) == [rows, 4]
