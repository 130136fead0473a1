"""KServe v2 REST with `tritonclient.http` (sync: run in a thread) and raw aiohttp."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any
from urllib.parse import quote

import aiohttp
import numpy as np
import pytest
import tritonclient.http as httpclient

from ovserve.server import Server
from tests.rest.support import EMBEDDINGS, GRAPH, TOKENIZER, call

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

TEXTS = np.array([b"hi", b"hello there"], dtype=object)
EXPECTED_IDS = [[101, 7632, 102, 0], [101, 7592, 2045, 102]]


def triton(server: Server) -> httpclient.InferenceServerClient:
    return httpclient.InferenceServerClient(url=f"127.0.0.1:{server.rest_port}")


def tokenize_with_tritonclient(server: Server, binary: bool) -> dict[str, Any]:
    client = triton(server)
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready(TOKENIZER)
        assert client.is_model_ready(GRAPH)
        metadata = client.get_model_metadata(TOKENIZER)
        text = httpclient.InferInput(metadata["inputs"][0]["name"], [2], "BYTES")
        text.set_data_from_numpy(TEXTS, binary_data=binary)
        outputs = [
            httpclient.InferRequestedOutput(n, binary_data=binary) for n in ("input_ids", "attention_mask")
        ]
        result = client.infer(TOKENIZER, [text], outputs=outputs, model_version="1")
        return {
            "server": client.get_server_metadata(),
            "metadata": metadata,
            "input_ids": result.as_numpy("input_ids"),
            "attention_mask": result.as_numpy("attention_mask"),
        }
    finally:
        client.close()


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
async def test_tritonclient_tokenizes_through_the_tokenizer_model(server: Server, binary: bool) -> None:
    found = await asyncio.to_thread(tokenize_with_tritonclient, server, binary)
    assert found["server"] == {"name": "OpenVINO Model Server", "version": found["server"]["version"]}
    assert found["metadata"]["versions"] == ["1"]
    assert found["metadata"]["inputs"][0]["datatype"] == "BYTES"
    assert found["input_ids"].tolist() == EXPECTED_IDS
    assert found["attention_mask"].tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]


def embed_with_tritonclient(server: Server) -> np.ndarray[Any, Any]:
    client = triton(server)
    try:
        inputs = []
        for name, values in (("input_ids", EXPECTED_IDS), ("attention_mask", [[1, 1, 1, 0], [1, 1, 1, 1]])):
            tensor = httpclient.InferInput(name, [2, 4], "INT64")
            tensor.set_data_from_numpy(np.array(values, dtype=np.int64))
            inputs.append(tensor)
        types = httpclient.InferInput("token_type_ids", [2, 4], "INT64")
        types.set_data_from_numpy(np.zeros((2, 4), dtype=np.int64))
        result = client.infer(EMBEDDINGS, [*inputs, types])
        hidden: np.ndarray[Any, Any] = result.as_numpy("last_hidden_state")
        return hidden
    finally:
        client.close()


async def test_tritonclient_runs_the_embeddings_model(server: Server) -> None:
    hidden = await asyncio.to_thread(embed_with_tritonclient, server)
    assert hidden.shape == (2, 4, 384)
    assert hidden.dtype == np.float32


async def test_names_are_url_decoded(session: aiohttp.ClientSession, base_url: str) -> None:
    for name, suffix in ((GRAPH, ""), (EMBEDDINGS, "/versions/1/"), (TOKENIZER, "/ready")):
        status, body, _ = await call(session, "GET", f"{base_url}/v2/models/{quote(name, safe='')}{suffix}")
        assert status == 200, (name, body)
        if body is not None:
            assert body["name"] == name


async def test_graph_metadata_is_the_contract_infer_implements(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    """The data plane's one graph description, the same as gRPC's (tests/grpc): OVMS's REST
    answer (`INVALID`, `[]`) named the streams but told a client nothing it could send."""
    status, body, _ = await call(session, "GET", f"{base_url}/v2/models/{GRAPH}")
    assert status == 200
    assert body == {
        "name": GRAPH,
        "versions": ["1"],
        "platform": "OpenVINO",
        "inputs": [{"name": "input", "datatype": "BYTES", "shape": [-1]}],
        "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 384]}],
    }


@pytest.mark.parametrize(
    ("unknown", "known"),
    [
        ("/versions/99", "/versions/1"),
        ("/versions/99/ready", "/versions/1/ready"),
        ("/versions/2/ready", "/ready"),
    ],
)
async def test_a_graph_has_only_version_1_and_answers_others_as_a_model_does(
    session: aiohttp.ClientSession, base_url: str, unknown: str, known: str
) -> None:
    """A graph has the single version 1 (as OVMS reports it): any other is 404, with the
    answer a model gives for a version it does not have."""
    graph = await call(session, "GET", f"{base_url}/v2/models/{GRAPH}{unknown}")
    model = await call(session, "GET", f"{base_url}/v2/models/{TOKENIZER}{unknown}")
    assert graph[:2] == model[:2] == (404, {"error": "Model with requested version is not found"})
    status, _, _ = await call(session, "GET", f"{base_url}/v2/models/{GRAPH}{known}")
    assert status == 200


async def test_json_infer_on_a_model(session: aiohttp.ClientSession, base_url: str) -> None:
    ids = {"name": "input_ids", "datatype": "INT64", "shape": [1, 3], "data": [[101, 7632, 102]]}
    mask = {"name": "attention_mask", "datatype": "INT64", "shape": [1, 3], "data": [1, 1, 1]}
    types = {"name": "token_type_ids", "datatype": "INT64", "shape": [1, 3], "data": [0, 0, 0]}
    body = {"id": "r1", "inputs": [ids, mask, types], "outputs": [{"name": "last_hidden_state"}]}
    status, answer, _ = await call(
        session, "POST", f"{base_url}/v2/models/{quote(EMBEDDINGS, safe='')}/infer", body=body
    )
    assert status == 200, answer
    assert answer["model_name"] == EMBEDDINGS
    assert answer["model_version"] == "1"
    assert answer["id"] == "r1"
    (output,) = answer["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("last_hidden_state", "FP32", [1, 3, 384])
    assert len(output["data"]) == 3 * 384


ERRORS: list[tuple[str, str, object, int, str]] = [
    ("GET", "/v2/models/nope", None, 404, "Model with requested name is not found"),
    ("GET", f"/v2/models/{TOKENIZER}/versions/7", None, 404, "Model with requested version is not found"),
    (
        "GET",
        f"/v2/models/{TOKENIZER}/versions/7/ready",
        None,
        404,
        "Model with requested version is not found",
    ),
    ("GET", "/v2/models/nope/ready", None, 404, "Model with requested name is not found"),
    (
        "POST",
        "/v2/models/nope/infer",
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}]},
        404,
        "Model with requested name is not found",
    ),
    (
        "POST",
        f"/v2/models/{TOKENIZER}/infer",
        {"inputs": []},
        400,
        "inputs field is required and must be a non-empty array",
    ),
    (
        "POST",
        f"/v2/models/{TOKENIZER}/infer",
        {"inputs": [{"name": "x", "datatype": "FP8", "shape": [1], "data": [1]}]},
        400,
        "input x: unsupported datatype FP8",
    ),
    (
        "POST",
        f"/v2/models/{TOKENIZER}/infer",
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2], "data": [1]}]},
        400,
        "input x: 1 values do not fit shape [2]",
    ),
    (
        "POST",
        f"/v2/models/{EMBEDDINGS}/infer",
        {"inputs": [{"name": "input_ids", "datatype": "INT64", "shape": [1], "data": [1]}]},
        400,
        "Invalid number of inputs - Expected: 3; Actual: 1",
    ),
    (
        "POST",
        f"/v2/models/{GRAPH}/infer",
        {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["x"]}]},
        400,
        f"graph {GRAPH} takes one BYTES input named input",
    ),
    (
        "POST",
        f"/v2/models/{GRAPH}/infer",
        {
            "inputs": [{"name": "input", "datatype": "BYTES", "shape": [1], "data": ["x"]}],
            "outputs": [{"name": "y"}],
        },
        400,
        "Output not found in graph: y",
    ),
    (
        "POST",
        f"/v2/models/{GRAPH}/infer",
        {
            "parameters": {"normalize": False},
            "inputs": [{"name": "input", "datatype": "BYTES", "shape": [1], "data": ["x"]}],
        },
        400,
        "request parameter normalize is not supported: it is set by the graph "
        "(option normalize_embeddings of its embeddings calculator)",
    ),
    ("POST", f"/v2/models/{TOKENIZER}", {}, 404, "Requested REST resource not found"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"), ERRORS, ids=[f"{e[0]} {e[1]} {e[3]}" for e in ERRORS]
)
async def test_kserve_errors_use_the_kserve_body(
    session: aiohttp.ClientSession,
    base_url: str,
    method: str,
    path: str,
    body: object,
    status: int,
    message: str,
) -> None:
    got, answer, _ = await call(session, method, base_url + path, body=body)
    assert (got, answer) == (status, {"error": message})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (struct.pack("<I", 9) + b"a", "element longer than the buffer"),
        (struct.pack("<I", 1) + b"a" + b"\x01\x00", "truncated length prefix"),
    ],
)
async def test_binary_bytes_input_that_breaks_its_layout_is_400(
    session: aiohttp.ClientSession, base_url: str, raw: bytes, message: str
) -> None:
    # The same layout check as gRPC's raw_input_contents (ovserve.tensor_codec).
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "BYTES",
                    "shape": [1],
                    "parameters": {"binary_data_size": len(raw)},
                }
            ]
        }
    ).encode()
    async with session.post(
        f"{base_url}/v2/models/{GRAPH}/infer",
        data=header + raw,
        headers={"Inference-Header-Content-Length": str(len(header))},
    ) as response:
        assert response.status == 400
        assert await response.json() == {"error": f"Invalid BYTES content of input input: {message}"}


async def test_malformed_json_is_rejected(session: aiohttp.ClientSession, base_url: str) -> None:
    status, answer, _ = await call(
        session,
        "POST",
        f"{base_url}/v2/models/{TOKENIZER}/infer",
        data="{",
        headers={"Content-Type": "application/json"},
    )
    assert (status, answer) == (412, {"error": "The file is not valid json - Cannot parse JSON body"})


async def test_server_metadata(session: aiohttp.ClientSession, base_url: str) -> None:
    status, body, _ = await call(session, "GET", f"{base_url}/v2")
    assert status == 200
    assert body["name"] == "OpenVINO Model Server"


def embed_graph_with_tritonclient(server: Server) -> tuple[np.ndarray[Any, Any], dict[str, Any]]:
    client = triton(server)
    try:
        text = httpclient.InferInput("input", [2], "BYTES")
        text.set_data_from_numpy(TEXTS)
        result = client.infer(GRAPH, [text], parameters={"dimensions": 64})
        vectors: np.ndarray[Any, Any] = result.as_numpy("output")
        return vectors, result.get_response()
    finally:
        client.close()


async def test_tritonclient_embeds_texts_through_the_graph(
    server: Server, session: aiohttp.ClientSession, base_url: str
) -> None:
    vectors, response = await asyncio.to_thread(embed_graph_with_tritonclient, server)
    assert vectors.shape == (2, 64)
    assert vectors.dtype == np.float32
    assert response["parameters"] == {"prompt_tokens": 7}
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    body = {"model": GRAPH, "input": ["hi", "hello there"], "dimensions": 64}
    status, openai_body, _ = await call(session, "POST", f"{base_url}/v3/embeddings", body=body)
    assert status == 200
    np.testing.assert_array_equal(
        vectors, np.array([d["embedding"] for d in openai_body["data"]], dtype=np.float32)
    )
