"""The exported embeddings workspace over gRPC: the graph, its two subconfig models, and
parity with REST `/v3/embeddings` (one data plane under both front ends)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import grpc
import numpy as np
import pytest

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.grpc.support import (
    EMBEDDINGS,
    GRAPH,
    TOKENIZER,
    Input,
    bytes_raw,
    output_array,
    rpc_error,
    texts_request,
)
from tests.running import running_server
from tests.support.models import copy_workspace, exported_workspace, graph_dir

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

TEXTS = ["The quick brown fox", "jumps over the lazy dog", "żółw"]


async def test_graph_metadata_is_the_tensor_contract(model_stub: InferenceStub) -> None:
    meta = await model_stub.ModelMetadata(pb.ModelMetadataRequest(name=GRAPH))
    assert (meta.name, list(meta.versions), meta.platform) == (GRAPH, ["1"], "OpenVINO")
    assert [(t.name, t.datatype, list(t.shape)) for t in meta.inputs] == [("input", "BYTES", [-1])]
    assert [(t.name, t.datatype, list(t.shape)) for t in meta.outputs] == [("output", "FP32", [-1, 384])]
    assert (await model_stub.ModelReady(pb.ModelReadyRequest(name=GRAPH))).ready


async def test_a_graph_has_only_version_1(model_stub: InferenceStub) -> None:
    """Version 1 (or none) is the graph; another is NOT_FOUND, as for a model without it."""
    assert (await model_stub.ModelReady(pb.ModelReadyRequest(name=GRAPH, version="1"))).ready
    meta = await model_stub.ModelMetadata(pb.ModelMetadataRequest(name=GRAPH, version="1"))
    assert list(meta.versions) == ["1"]
    for name in (GRAPH, TOKENIZER):
        for call in (
            model_stub.ModelReady(pb.ModelReadyRequest(name=name, version="99")),
            model_stub.ModelMetadata(pb.ModelMetadataRequest(name=name, version="99")),
        ):
            error = await rpc_error(call)
            assert (error.code(), error.details()) == (
                grpc.StatusCode.NOT_FOUND,
                "Model with requested version is not found",
            ), name


async def test_graph_embeds_texts_in_both_encodings(model_stub: InferenceStub) -> None:
    raw = await model_stub.ModelInfer(texts_request(GRAPH, TEXTS, raw=True))
    typed = await model_stub.ModelInfer(texts_request(GRAPH, TEXTS, raw=False))
    for response in (raw, typed):
        assert (response.model_name, response.model_version) == (GRAPH, "1")
        assert [(o.name, o.datatype, list(o.shape)) for o in response.outputs] == [
            ("output", "FP32", [3, 384])
        ]
        assert response.parameters["prompt_tokens"].int64_param > len(TEXTS)
    vectors = output_array(raw, "output")
    np.testing.assert_array_equal(vectors, output_array(typed, "output"))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


async def test_dimensions_keeps_the_first_values_renormalized(model_stub: InferenceStub) -> None:
    full = output_array(await model_stub.ModelInfer(texts_request(GRAPH, TEXTS, raw=True)), "output")
    cut = output_array(
        await model_stub.ModelInfer(texts_request(GRAPH, TEXTS, raw=True, dimensions=64)), "output"
    )
    assert cut.shape == (3, 64)
    expected = full[:, :64] / np.linalg.norm(full[:, :64], axis=1, keepdims=True)
    np.testing.assert_allclose(cut, expected, rtol=1e-5, atol=1e-6)


async def test_requested_output_and_request_id(model_stub: InferenceStub) -> None:
    request = texts_request(GRAPH, TEXTS[:1], raw=False)
    request.id = "abc"
    request.outputs.append(pb.ModelInferRequest.InferRequestedOutputTensor(name="output"))
    response = await model_stub.ModelInfer(request)
    assert response.id == "abc"
    assert [o.name for o in response.outputs] == ["output"]


def _with_output(request: pb.ModelInferRequest, name: str) -> pb.ModelInferRequest:
    request.outputs.append(pb.ModelInferRequest.InferRequestedOutputTensor(name=name))
    return request


GRAPH_ERRORS = [
    ("dimensions too large", texts_request(GRAPH, TEXTS, raw=True, dimensions=385),
     "dimensions should be between 1 and 384"),
    ("dimensions zero", texts_request(GRAPH, TEXTS, raw=True, dimensions=0),
     "dimensions should be greater than 0"),
    ("dimensions not int", texts_request(GRAPH, TEXTS, raw=True, dimensions="64"),
     "dimensions should be an integer"),
    ("normalize", texts_request(GRAPH, TEXTS, raw=True, normalize=False),
     "request parameter normalize is not supported: it is set by the graph (option normalize_embeddings"),
    ("truncate", texts_request(GRAPH, TEXTS, raw=True, truncate=True),
     "request parameter truncate is not supported: it is set by the graph (option truncate"),
    ("wrong input name", pb.ModelInferRequest(model_name=GRAPH, inputs=[Input(
        name="text", datatype="BYTES", shape=[1], contents=pb.InferTensorContents(bytes_contents=[b"a"]))]),
     f"graph {GRAPH} takes one BYTES input named input"),
    ("wrong datatype", pb.ModelInferRequest(model_name=GRAPH, inputs=[Input(
        name="input", datatype="INT64", shape=[1], contents=pb.InferTensorContents(int64_contents=[1]))]),
     f"graph {GRAPH} takes one BYTES input named input"),
    ("no input", pb.ModelInferRequest(model_name=GRAPH), "Invalid number of inputs - Expected: 1; Actual: 0"),
    ("empty input", texts_request(GRAPH, [], raw=False), "input array should not be empty"),
    ("not UTF-8", pb.ModelInferRequest(model_name=GRAPH, inputs=[Input(
        name="input", datatype="BYTES", shape=[1],
        contents=pb.InferTensorContents(bytes_contents=[b"\xff"]))]),
     "input input must hold UTF-8 strings"),
    ("UTF-8-encoded surrogate", pb.ModelInferRequest(model_name=GRAPH, inputs=[Input(
        name="input", datatype="BYTES", shape=[2],
        contents=pb.InferTensorContents(bytes_contents=[b"ok", b"\xed\xa0\x80"]))]),
     "input input must hold UTF-8 strings"),
    ("raw, not UTF-8", pb.ModelInferRequest(model_name=GRAPH, inputs=[Input(
        name="input", datatype="BYTES", shape=[2])], raw_input_contents=[bytes_raw([b"ok", b"\xc3"])]),
     "input input must hold UTF-8 strings"),
    ("unknown output", _with_output(texts_request(GRAPH, TEXTS, raw=True), "embeddings"),
     "Output not found in graph: embeddings"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_pb", "message"), [r[1:] for r in GRAPH_ERRORS], ids=[r[0] for r in GRAPH_ERRORS]
)
async def test_graph_request_errors_are_invalid_arguments(
    model_stub: InferenceStub, request_pb: pb.ModelInferRequest, message: str
) -> None:
    error = await rpc_error(model_stub.ModelInfer(request_pb))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in error.details()


async def test_tokenizer_model_refuses_bytes_that_are_not_utf8(model_stub: InferenceStub) -> None:
    """The old layout's tokenizer model, called directly: a clear error, not INTERNAL."""
    meta = await model_stub.ModelMetadata(pb.ModelMetadataRequest(name=TOKENIZER))
    contents = pb.InferTensorContents(bytes_contents=[b"\xff"])
    request = pb.ModelInferRequest(
        model_name=TOKENIZER,
        inputs=[Input(name=meta.inputs[0].name, datatype="BYTES", shape=[1], contents=contents)],
    )
    error = await rpc_error(model_stub.ModelInfer(request))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"input {meta.inputs[0].name} must hold UTF-8 strings" in error.details()


async def test_tokenizer_model_turns_strings_into_int64_tensors(model_stub: InferenceStub) -> None:
    meta = await model_stub.ModelMetadata(pb.ModelMetadataRequest(name=TOKENIZER))
    (text_input,) = meta.inputs
    assert text_input.datatype == "BYTES"
    request = pb.ModelInferRequest(model_name=TOKENIZER)
    request.inputs.append(
        Input(name=text_input.name, datatype="BYTES", shape=[2],
              contents=pb.InferTensorContents(bytes_contents=[b"hello world", b"hi"]))
    )  # fmt: skip
    response = await model_stub.ModelInfer(request)
    assert {o.name: o.datatype for o in response.outputs} == {
        "input_ids": "INT64",
        "attention_mask": "INT64",
        "token_type_ids": "INT64",
    }
    ids = output_array(response, "input_ids")
    mask = output_array(response, "attention_mask")
    assert ids.shape == mask.shape == (2, 4)  # [CLS] hello world [SEP], padded: [CLS] hi [SEP] [PAD]
    assert mask.tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]


async def test_embeddings_model_turns_int64_tensors_into_fp32(model_stub: InferenceStub) -> None:
    ids = np.array([[101, 7592, 2088, 102]], dtype=np.int64)
    request = pb.ModelInferRequest(model_name=EMBEDDINGS, model_version="1")
    for name, values in (
        ("input_ids", ids),
        ("attention_mask", np.ones_like(ids)),
        ("token_type_ids", np.zeros_like(ids)),
    ):
        request.inputs.append(
            Input(name=name, datatype="INT64", shape=list(values.shape),
                  contents=pb.InferTensorContents(int64_contents=values.ravel().tolist()))
        )  # fmt: skip
    response = await model_stub.ModelInfer(request)
    assert response.model_version == "1"
    ((name, datatype, shape),) = [(o.name, o.datatype, list(o.shape)) for o in response.outputs]
    assert (name, datatype, shape) == ("last_hidden_state", "FP32", [1, 4, 384])
    assert np.isfinite(output_array(response, name)).all()


async def test_a_hundred_graph_requests_over_one_stream(model_stub: InferenceStub) -> None:
    async def requests() -> AsyncIterator[pb.ModelInferRequest]:
        for i in range(100):
            if i % 25 == 3:
                yield texts_request(GRAPH, [], raw=True)
            else:
                request = texts_request(GRAPH, [f"document number {i}"], raw=i % 2 == 0)
                request.id = str(i)
                yield request

    responses = [r async for r in model_stub.ModelStreamInfer(requests())]
    assert len(responses) == 100
    for i, response in enumerate(responses):
        if i % 25 == 3:
            assert "input array should not be empty" in response.error_message
        else:
            assert response.error_message == ""
            assert response.infer_response.id == str(i)
            assert output_array(response.infer_response, "output").shape == (1, 384)


async def test_rest_and_grpc_return_identical_vectors(
    model_server: Server, model_stub: InferenceStub
) -> None:
    url = f"http://127.0.0.1:{model_server.rest_port}/v3/embeddings"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"model": GRAPH, "input": TEXTS}) as reply,
    ):
        assert reply.status == 200, await reply.text()
        body = await reply.json()
    rest = np.array([item["embedding"] for item in body["data"]], dtype=np.float32)
    grpc_response = await model_stub.ModelInfer(texts_request(GRAPH, TEXTS, raw=True))
    # Bit for bit at any precision: the two requests run one after the other, each alone, so
    # the compiled model runs the same shape with the same kernels (OpenVINO's CPU plugin is
    # deterministic for a shape); only batch-mates could change the rounding.
    np.testing.assert_array_equal(output_array(grpc_response, "output"), rest)
    assert grpc_response.parameters["prompt_tokens"].int64_param == body["usage"]["prompt_tokens"]


async def test_a_graph_that_failed_to_load_is_unavailable(tmp_path: Path) -> None:
    config = copy_workspace(exported_workspace(), tmp_path / "ws")
    graph_file = graph_dir(config) / "graph.pbtxt"
    graph_file.write_text(graph_file.read_text().replace("EmbeddingsCalculator", "NoSuchCalculator", 1))
    async with (
        running_server(config) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as ch,
    ):
        stub = InferenceStub(ch)
        assert not (await stub.ModelReady(pb.ModelReadyRequest(name=GRAPH))).ready
        for call in (
            stub.ModelInfer(texts_request(GRAPH, TEXTS, raw=True)),
            stub.ModelMetadata(pb.ModelMetadataRequest(name=GRAPH)),
        ):
            error = await rpc_error(call)
            assert (error.code(), error.details()) == (
                grpc.StatusCode.UNAVAILABLE,
                "Mediapipe is not loaded yet",
            )
        # The models the graph would have used still serve.
        assert (await stub.ModelReady(pb.ModelReadyRequest(name=TOKENIZER))).ready
