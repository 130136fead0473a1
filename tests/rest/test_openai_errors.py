"""Every OVMS embeddings and routing error with its status and message (OpenAI body shape)."""

from __future__ import annotations

import aiohttp
import pytest

from tests.rest.support import EXECUTION_ERROR, GRAPH, call, openai_error

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

LONG = " ".join(["hello"] * 600)

# (request body, status, exact message for routing errors / calculator message for 400s)
ROUTING_ERRORS: list[tuple[str, str, int, str]] = [
    ("not json", "{", 412, "The file is not valid json - Cannot parse JSON body"),
    ("not utf-8", '{"model": "\udcff"}', 412, "The file is not valid json - Cannot parse JSON body"),
    ("array", "[1, 2]", 412, "The file is not valid json - JSON body must be an object"),
    ("string", '"x"', 412, "The file is not valid json - JSON body must be an object"),
    ("no model", '{"input": "x"}', 412, "The file is not valid json - model field is missing in JSON body"),
    (
        "model int",
        '{"model": 5, "input": "x"}',
        412,
        "The file is not valid json - model field is not a string",
    ),
    (
        "too deep",
        '{"model": "m", "input": ' + "[" * 150 + "]" * 150 + "}",
        412,
        "The file is not valid json - JSON body exceeds maximum nesting depth",
    ),
    (
        "deeper than the parser",
        '{"model": "m", "input": ' + "[" * 100_000 + "]" * 100_000 + "}",
        412,
        "The file is not valid json - JSON body exceeds maximum nesting depth",
    ),
    (
        "unknown graph",
        '{"model": "nope", "input": []}',
        404,
        "Mediapipe graph definition with requested name is not found",
    ),
    (
        "empty model, URI graph unknown",
        '{"model": "", "input": "x"}',
        404,
        "Mediapipe graph definition with requested name is not found",
    ),
]

CALCULATOR_ERRORS: list[tuple[str, object, str]] = [
    ("input missing", {}, "input field is required"),
    ("input number", {"input": 5}, "input should be string, array of strings or array of integers"),
    ("input object", {"input": {}}, "input should be string, array of strings or array of integers"),
    ("input bool", {"input": True}, "input should be string, array of strings or array of integers"),
    ("input empty", {"input": []}, "input array should not be empty"),
    ("inner empty", {"input": [[1], []]}, "inner arrays in input should not be empty"),
    ("mixed", {"input": ["a", 1]}, "input must be homogeneous"),
    ("float element", {"input": [1.5]}, "every element in input array should be either string or int"),
    ("null element", {"input": [None]}, "every element in input array should be either string or int"),
    (
        "strings in arrays",
        {"input": [["a"]]},
        "input must be either array of strings or array of array of integers",
    ),
    (
        "encoding value",
        {"input": "x", "encoding_format": "hex"},
        "encoding_format should either base64 or float",
    ),
    ("encoding type", {"input": "x", "encoding_format": 1}, "encoding_format should be string"),
    ("too long", {"input": LONG}, "Input length 602 longer than allowed 256"),
    ("too many ids", {"input": list(range(1, 600))}, "Input length 599 longer than allowed 256"),
]


@pytest.mark.parametrize(
    ("text", "status", "message"), [r[1:] for r in ROUTING_ERRORS], ids=[r[0] for r in ROUTING_ERRORS]
)
async def test_routing_errors(
    session: aiohttp.ClientSession, base_url: str, text: str, status: int, message: str
) -> None:
    data = text.encode("utf-8", "surrogateescape")
    got, body, _ = await call(
        session, "POST", f"{base_url}/v3/embeddings", data=data, headers={"Content-Type": "application/json"}
    )
    assert (got, openai_error(body)) == (status, message)


@pytest.mark.parametrize(
    ("fields", "message"), [r[1:] for r in CALCULATOR_ERRORS], ids=[r[0] for r in CALCULATOR_ERRORS]
)
async def test_request_errors_are_400_with_the_ovms_execution_wrapper(
    session: aiohttp.ClientSession, base_url: str, fields: dict[str, object], message: str
) -> None:
    status, body, _ = await call(
        session, "POST", f"{base_url}/v3/embeddings", body={"model": GRAPH, **fields}
    )
    text = openai_error(body)
    assert status == 400
    assert text.startswith(EXECUTION_ERROR), text
    assert text.endswith(f" failed: {message}"), text


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [
        (0, "dimensions should be greater than 0"),
        (385, "dimensions should be between 1 and 384"),
        ("8", "dimensions should be an integer"),
        (True, "dimensions should be an integer"),
    ],
)
async def test_bad_dimensions_are_400(
    session: aiohttp.ClientSession, base_url: str, dimensions: object, message: str
) -> None:
    status, body, _ = await call(
        session,
        "POST",
        f"{base_url}/v3/embeddings",
        body={"model": GRAPH, "input": "x", "dimensions": dimensions},
    )
    assert (status, openai_error(body)) == (400, message)


async def test_a_non_json_body_is_routed_by_the_uri_and_refused_by_the_calculator(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    plain = {"Content-Type": "text/plain"}
    status, body, _ = await call(session, "POST", f"{base_url}/v3/embeddings", data="hello", headers=plain)
    assert (status, openai_error(body)) == (
        404,
        "Mediapipe graph definition with requested name is not found",
    )
    status, body, _ = await call(session, "POST", f"{base_url}/v3/{GRAPH}", data="hello", headers=plain)
    assert status == 400
    assert openai_error(body).endswith("failed: Non-json request received in embeddings calculator")


@pytest.mark.parametrize("path", ["/v3/rerank", "/v1/rerank", "/v3/v1/rerank"])
async def test_rerank_on_an_embeddings_graph_is_a_400_that_names_the_route(
    session: aiohttp.ClientSession, base_url: str, path: str
) -> None:
    body = {"model": GRAPH, "query": "q", "documents": ["a", "b"]}
    status, answer, _ = await call(session, "POST", base_url + path, body=body)
    assert status == 400
    assert openai_error(answer) == f"{GRAPH} is an embeddings graph, not a rerank graph: call /v3/embeddings"


async def test_wrong_method_is_405_with_allow_and_unknown_route_404(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    status, body, response = await call(session, "GET", f"{base_url}/v3/embeddings")
    assert status == 405
    assert response.headers["Allow"] == "POST"
    assert openai_error(body)
    status, body, _ = await call(session, "GET", f"{base_url}/v4/embeddings")
    assert (status, body) == (404, {"error": "Requested REST resource not found"})


async def test_an_unknown_graph_is_reported_before_bad_dimensions(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    body = {"model": "nope", "input": "x", "dimensions": "8"}
    status, answer, _ = await call(session, "POST", f"{base_url}/v3/embeddings", body=body)
    assert (status, openai_error(answer)) == (
        404,
        "Mediapipe graph definition with requested name is not found",
    )


async def test_json_with_a_charset_is_json_and_v1_errors_are_openai_shaped(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    data = '{"model": "' + GRAPH + '", "input": "hi"}'
    status, body, _ = await call(session, "POST", f"{base_url}/v3/embeddings", data=data, headers=headers)
    assert status == 200
    assert body["model"] == GRAPH
    status, body, _ = await call(
        session, "POST", f"{base_url}/v1/embeddings", body={"model": GRAPH, "input": []}
    )
    assert status == 400
    assert openai_error(body).endswith("failed: input array should not be empty")
