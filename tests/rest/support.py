"""Shared helpers of the REST end-to-end tests."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from tests.support.models import DEFAULT_GRAPH_NAME

GRAPH = DEFAULT_GRAPH_NAME
TOKENIZER = f"{GRAPH}_tokenizer_model"
EMBEDDINGS = f"{GRAPH}_embeddings_model"
EXECUTION_ERROR = (
    "Mediapipe execution failed. MP status - INVALID_ARGUMENT: CalculatorGraph::Run() failed: \n"
)


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    body: object = None,
    data: bytes | str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, aiohttp.ClientResponse]:
    """(status, decoded JSON body or None, response); `body` is sent as JSON, `data` raw."""
    payload = json.dumps(body) if body is not None else data
    send_headers = {"Content-Type": "application/json"} if body is not None else {}
    send_headers.update(headers or {})
    async with session.request(method, url, data=payload, headers=send_headers) as response:
        raw = await response.read()
        decoded = json.loads(raw) if raw and "json" in response.content_type else None
        return response.status, decoded, response


def openai_error(body: Any) -> str:
    """The message of an OpenAI-shaped error body."""
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict), error
    assert set(error) == {"message", "type", "code"}, error
    message = error["message"]
    assert isinstance(message, str)
    return message
