"""Request text that is not valid Unicode is the client's error on every JSON route, never a 5xx.

A `\\ud800` escape without its pair is valid JSON grammar but no character: the server names
the string (400, in the route's error shape). Bytes that are not UTF-8 (UTF-8-encoded
surrogates among them) are not JSON text at all: 412 `Cannot parse JSON body`, as any other
undecodable body. Bodies are sent as raw bytes so the escapes reach the server as written.
"""

from __future__ import annotations

import aiohttp
import pytest

from tests.rest.support import GRAPH, call, openai_error

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

JSON = {"Content-Type": "application/json"}
NOT_UNICODE = "is not valid Unicode: it holds the lone surrogate"

# (id, route, JSON members after `model`, with escapes; JSON path named; surrogate named)
LONE_SURROGATES = [
    ("embeddings string", "/v3/embeddings", '"input": "\\ud800"', "input", "\\ud800"),
    ("embeddings list", "/v3/embeddings", '"input": ["ok", "a\\uDC00b"]', "input[1]", "\\udc00"),
    ("embeddings, v1 route", "/v1/embeddings", '"input": ["\\ud83d"]', "input[0]", "\\ud83d"),
    ("ignored key", "/v3/embeddings", '"input": "x", "user": "\\ud800"', "user", "\\ud800"),
    ("in a key", "/v3/embeddings", '"input": "x", "\\udfff": 1', "a key of the JSON body", "\\udfff"),
    ("tokenize string", "/v3/tokenize", '"text": "\\ud800"', "text", "\\ud800"),
    ("tokenize list", "/v3/tokenize", '"text": ["x", "y\\ud800"]', "text[1]", "\\ud800"),
]


def openai_body(members: str) -> bytes:
    """`{"model": GRAPH, <members>}` as raw bytes, escapes as written."""
    return ('{"model": "' + GRAPH + '", ' + members + "}").encode()


KSERVE_BYTES = b'{"inputs": [{"name": "input", "datatype": "BYTES", "shape": [1], "data": ["x"]}]}'


@pytest.mark.parametrize(
    ("route", "members", "where", "surrogate"),
    [r[1:] for r in LONE_SURROGATES],
    ids=[r[0] for r in LONE_SURROGATES],
)
async def test_a_lone_surrogate_on_an_openai_route_is_400_naming_the_string(
    session: aiohttp.ClientSession, base_url: str, route: str, members: str, where: str, surrogate: str
) -> None:
    data = openai_body(members)
    status, body, _ = await call(session, "POST", f"{base_url}{route}", data=data, headers=JSON)
    assert status == 400, body
    assert openai_error(body) == f"{where} {NOT_UNICODE} {surrogate}" + (
        " (a \\ud800-\\udfff escape without its pair), which cannot be encoded as UTF-8"
    )


async def test_a_lone_surrogate_in_kserve_json_bytes_is_400_in_the_kserve_shape(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    data = KSERVE_BYTES.replace(b'[1], "data": ["x"]', b'[2], "data": ["ok", "\\ud800"]')
    url = f"{base_url}/v2/models/{GRAPH}/infer"
    status, body, _ = await call(session, "POST", url, data=data, headers=JSON)
    assert status == 400, body
    assert set(body) == {"error"}
    assert body["error"].startswith(f"inputs[0].data[1] {NOT_UNICODE} \\ud800"), body


UNDECODABLE = [
    ("/v3/embeddings", openai_body('"input": "x"')),
    ("/v3/tokenize", openai_body('"text": "x"')),
    (f"/v2/models/{GRAPH}/infer", KSERVE_BYTES),
]


@pytest.mark.parametrize(("route", "valid"), UNDECODABLE, ids=[r[0] for r in UNDECODABLE])
async def test_utf8_encoded_surrogates_are_not_json(
    session: aiohttp.ClientSession, base_url: str, route: str, valid: bytes
) -> None:
    data = valid.replace(b'"x"', b'"\xed\xa0\x80"')
    status, body, _ = await call(session, "POST", f"{base_url}{route}", data=data, headers=JSON)
    message = "The file is not valid json - Cannot parse JSON body"
    if route.startswith("/v2/"):
        assert (status, body) == (412, {"error": message})
    else:
        assert (status, openai_error(body)) == (412, message)


async def test_an_escaped_surrogate_pair_is_one_character_and_embeds(
    session: aiohttp.ClientSession, base_url: str
) -> None:
    data = openai_body('"input": ["\\ud83d\\ude00", "\\uD83D\\uDE00"]')
    status, body, _ = await call(session, "POST", f"{base_url}/v3/embeddings", data=data, headers=JSON)
    assert status == 200, body
    first, second = (item["embedding"] for item in body["data"])
    assert first == second
