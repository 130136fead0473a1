"""`POST /v3/tokenize` end to end, on the seed workspace's graph."""

from __future__ import annotations

import aiohttp
import pytest

from ovserve.config import RequestLimits
from tests.rest.support import EXECUTION_ERROR, GRAPH, call, openai_error
from tests.running import running_server
from tests.support.models import exported_workspace

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

# bert-base-uncased ids, as the Hugging Face tokenizer of all-MiniLM-L6-v2 gives them.
HELLO_WORLD = [101, 7592, 1010, 2088, 999, 102]
SHORT = [101, 2460, 102]


async def test_one_string_answers_one_list_of_ids(session: aiohttp.ClientSession, base_url: str) -> None:
    status, body, response = await call(
        session, "POST", f"{base_url}/v3/tokenize", body={"model": GRAPH, "text": "Hello, world!"}
    )
    assert (status, body) == (200, {"tokens": HELLO_WORLD})
    assert response.content_type == "application/json"


@pytest.mark.parametrize("path", ["/v3/tokenize", "/v3/v1/tokenize"])
async def test_a_list_answers_unpadded_rows_on_every_tokenize_path(
    session: aiohttp.ClientSession, base_url: str, path: str
) -> None:
    status, body, _ = await call(
        session, "POST", f"{base_url}{path}", body={"model": GRAPH, "text": ["Hello, world!", "Short"]}
    )
    assert (status, body) == (200, {"tokens": [HELLO_WORLD, SHORT]})


async def test_options_cut_pad_and_drop_special_tokens(session: aiohttp.ClientSession, base_url: str) -> None:
    body = {
        "model": GRAPH,
        "text": ["Hello, world!", "Short"],
        "max_length": 4,
        "pad_to_max_length": True,
        "padding_side": "left",
    }
    status, got, _ = await call(session, "POST", f"{base_url}/v3/tokenize", body=body)
    assert (status, got) == (200, {"tokens": [[101, 7592, 1010, 102], [0, 101, 2460, 102]]})
    body = {"model": GRAPH, "text": "Hello, world!", "add_special_tokens": False}
    status, got, _ = await call(session, "POST", f"{base_url}/v3/tokenize", body=body)
    assert (status, got) == (200, {"tokens": HELLO_WORLD[1:-1]})


async def test_a_text_longer_than_the_graph_maximum_is_counted_in_full(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    status, body, _ = await call(
        session, "POST", f"{base_url}/v3/tokenize", body={"model": GRAPH, "text": " ".join(["hello"] * 600)}
    )
    assert status == 200
    assert len(body["tokens"]) == 602


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "text field is required"),
        ({"text": {"a": 1}}, "Input should be string or array of strings"),
        ({"text": "a", "max_length": 0}, "max_length should be greater than 0"),
        ({"text": "a", "max_length": "8"}, "max_length should be unsigned integer"),
        ({"text": "a", "pad_to_max_length": 1}, "pad_to_max_length should be boolean"),
        ({"text": "a", "add_special_tokens": "no"}, "add_special_tokens should be boolean"),
        ({"text": "a", "padding_side": "middle"}, "padding_side should be either left or right"),
    ],
)
async def test_bad_bodies_are_400_with_the_ovms_execution_wrapper(
    session: aiohttp.ClientSession, base_url: str, fields: dict[str, object], message: str
) -> None:
    status, body, _ = await call(session, "POST", f"{base_url}/v3/tokenize", body={"model": GRAPH, **fields})
    text = openai_error(body)
    assert status == 400
    assert text.startswith(EXECUTION_ERROR), text
    assert text.endswith(f" failed: {message}"), text


async def test_routing_errors_come_before_the_body_checks(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    status, body, _ = await call(session, "POST", f"{base_url}/v3/tokenize", body={"model": "nope"})
    assert (status, openai_error(body)) == (
        404,
        "Mediapipe graph definition with requested name is not found",
    )
    status, body, _ = await call(session, "POST", f"{base_url}/v3/tokenize", body={"text": "a"})
    assert (status, openai_error(body)) == (
        412,
        "The file is not valid json - model field is missing in JSON body",
    )


async def test_a_plain_model_is_not_a_graph(session: aiohttp.ClientSession, base_url: str) -> None:
    """Subconfig models are served over KServe only; tokenize needs a graph (404, as OVMS)."""
    body = {"model": f"{GRAPH}_tokenizer_model", "text": "a"}
    status, got, _ = await call(session, "POST", f"{base_url}/v3/tokenize", body=body)
    assert (status, openai_error(got)) == (404, "Mediapipe graph definition with requested name is not found")


async def test_the_inputs_per_request_limit_counts_texts(session: aiohttp.ClientSession) -> None:
    async with running_server(exported_workspace(), limits=RequestLimits(max_inputs_per_request=2)) as server:
        url = f"http://127.0.0.1:{server.rest_port}/v3/tokenize"
        status, body, _ = await call(session, "POST", url, body={"model": GRAPH, "text": ["a", "b", "c"]})
        assert status == 400
        assert "request has 3 inputs, more than the limit of 2 per request" in openai_error(body)
        status, body, _ = await call(session, "POST", url, body={"model": GRAPH, "text": ["a", "b"]})
        assert status == 200
