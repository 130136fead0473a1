"""TEI routes (`/embed`, `/similarity`, `/info`, `/health`) with TEI-shaped requests sent by
`requests`, as TEI's users send them, against the real seed workspace."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
import requests

from ovserve.server import Server
from tests.rest.support import GRAPH

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def post(server: Server, path: str, body: Any) -> requests.Response:
    # `requests` blocks: off the loop that serves the in-process server.
    url = f"http://127.0.0.1:{server.rest_port}{path}"
    return await asyncio.to_thread(requests.post, url, json=body, timeout=60)


async def get(server: Server, path: str) -> requests.Response:
    url = f"http://127.0.0.1:{server.rest_port}{path}"
    return await asyncio.to_thread(requests.get, url, timeout=60)


async def openai_vectors(server: Server, texts: list[str]) -> np.ndarray[Any, Any]:
    response = await post(server, "/v3/embeddings", {"model": GRAPH, "input": texts})
    return np.array([item["embedding"] for item in response.json()["data"]])


async def test_embed_answers_a_list_of_vectors_equal_to_openais(server: Server) -> None:
    one = await post(server, "/embed", {"inputs": "hello world"})
    many = await post(
        server, "/embed", {"inputs": ["hello world", "goodbye"], "normalize": True, "truncate": False}
    )
    assert (one.status_code, many.status_code) == (200, 200)
    assert np.array(one.json()).shape == (1, 384)
    assert np.array_equal(np.array(many.json()), await openai_vectors(server, ["hello world", "goodbye"]))
    named = await post(server, "/embed", {"inputs": "hello world", "model": "all-MiniLM-L6-v2"})
    assert named.json() == one.json()


async def test_embed_truncates_on_request_as_the_openai_route_does(server: Server) -> None:
    """The seed graph refuses over-long input by default; `truncate: true` cuts it, as
    `/v3/embeddings` with `truncate: true` does, to the same vector."""
    long_text = " ".join(["word"] * 600)
    refused = await post(server, "/embed", {"inputs": long_text})
    cut = await post(
        server, "/embed", {"inputs": long_text, "truncate": True, "truncation_direction": "Right"}
    )
    assert (refused.status_code, cut.status_code) == (400, 200)
    body = {"model": GRAPH, "input": [long_text], "truncate": True}
    openai = (await post(server, "/v3/embeddings", body)).json()["data"][0]["embedding"]
    assert np.array_equal(np.array(cut.json()[0]), np.array(openai))


async def test_similarity_is_the_cosine_with_each_sentence(server: Server) -> None:
    sentences = ["hello world", "hello there", "the stock market fell"]
    response = await post(
        server, "/similarity", {"inputs": {"source_sentence": "hello world", "sentences": sentences}}
    )
    assert response.status_code == 200
    scores = response.json()
    vectors = await openai_vectors(server, ["hello world", *sentences])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert np.allclose(scores, vectors[1:] @ vectors[0], atol=1e-6)
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert scores[1] > scores[2]


async def test_info_and_health(server: Server) -> None:
    info = await get(server, "/info")
    health = await get(server, "/health")
    assert info.status_code == 200
    assert info.json()["model_id"] == GRAPH
    assert info.json()["models"] == [GRAPH]
    assert (health.status_code, health.content) == (200, b"")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"inputs": "x", "prompt_name": "query"}, "prompt_name 'query' is not available"),
        ({"inputs": "x", "prompt_name": 3}, "prompt_name should be string"),
        ({"inputs": "x", "truncate": "yes"}, "truncate should be boolean"),
        ({"inputs": "x", "truncation_direction": "Left"}, "truncation_direction Left is not supported"),
        ({"inputs": "x", "truncation_direction": "Up"}, "truncation_direction must be Right or Left"),
        ({"inputs": " ".join(["word"] * 600), "truncate": False}, "longer than allowed"),
        ({"inputs": "x", "normalize": False}, "normalize=false is not supported"),
        ({"inputs": "x", "normalize": "yes"}, "normalize must be a boolean"),
        ({"inputs": []}, "inputs must be a string or a non-empty list"),
        ({"input": "x"}, "inputs must be a string or a non-empty list"),
        (["x"], "the JSON body must be an object"),
        ({"inputs": "x", "model": 3}, "model must be a string"),
    ],
)
async def test_embed_refusals_have_tei_error_shape(server: Server, body: Any, message: str) -> None:
    response = await post(server, "/embed", body)
    assert response.status_code == 400
    assert response.json()["error_type"] == "Validation"
    assert set(response.json()) == {"error", "error_type"}
    assert message in response.json()["error"]


async def test_tei_rerank_without_a_rerank_graph_is_a_400_in_tei_shape(server: Server) -> None:
    response = await post(server, "/rerank", {"query": "q", "texts": ["a"]})
    assert response.status_code == 400
    assert set(response.json()) == {"error", "error_type"}
    assert "this server has 0 rerank graphs" in response.json()["error"]
    named = await post(server, "/rerank", {"query": "q", "texts": ["a"], "model": GRAPH})
    assert named.status_code == 400
    assert "is an embeddings graph" in named.json()["error"]


async def test_unknown_model_and_bad_similarity(server: Server) -> None:
    unknown = await post(server, "/embed", {"inputs": "x", "model": "nope"})
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": "Mediapipe graph definition with requested name is not found",
        "error_type": "Validation",
    }
    bad = await post(server, "/similarity", {"inputs": {"source_sentence": ["a", "b"], "sentences": ["c"]}})
    assert (bad.status_code, bad.json()["error"]) == (400, "inputs.source_sentence must be one string")
    bad = await post(server, "/similarity", {"inputs": "a"})
    assert bad.status_code == 400
