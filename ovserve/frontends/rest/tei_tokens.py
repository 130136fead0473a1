"""TEI's tokenizer routes on the same data plane: `POST /tokenize` and `POST /decode`.

`/tokenize` takes `{"inputs": str | [str], "add_special_tokens": true, "prompt_name": null}` and
answers one list per input of `{"id", "text", "special", "start", "stop"}`: `start`/`stop` are
UTF-8 byte offsets into the tokenized text (the model's prompt included, as TEI counts them), null
for special tokens and for tokens whose place in the text is not found
(`calculators.token_details`). The text is what `/embed` embeds: the model's prompt
(`prompt_name`'s, else its default) goes first, and no cut is made, so the full length shows.

`/decode` takes `{"ids": [int] | [[int]], "skip_special_tokens": true}` and answers one string
per id list.

Both need the graph's detokenizer (`calculators.ov_detokenizer`); a graph without one answers 501
naming where it was looked for. The model is chosen as on TEI's other routes (`tei.model_of`);
errors have TEI's shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from ovserve.errors import InvalidArgument
from ovserve.frontends.rest.jsonio import (
    DECODE_OFF_LOOP_BYTES,
    ENCODE_OFF_LOOP_VALUES,
    dumps,
    json_bytes_response,
    off_loop_if,
    read_json,
)
from ovserve.frontends.rest.state import DATAPLANE
from ovserve.frontends.rest.tei import body_of, model_of, texts_of
from ovserve.types import DecodeRequest, TokenizeRequest, TokenizeResult


def _flag(body: Mapping[str, object], key: str, *, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise InvalidArgument(f"{key} must be a boolean")
    return value


def encode_details(result: TokenizeResult) -> bytes:
    """TEI's answer: a list per text of token objects."""
    rows = [
        [{"id": t.id, "text": t.text, "special": t.special, "start": t.start, "stop": t.stop} for t in row]
        for row in result.details
    ]
    return dumps(rows)


async def tokenize(request: web.Request) -> web.Response:
    body = body_of(await read_json(request))
    dataplane = request.app[DATAPLANE]
    model = model_of(dataplane, body)
    dataplane.graph(model)  # 404 / 503 before the input checks
    texts = texts_of(body.get("inputs"), "inputs")
    prompt_name = body.get("prompt_name")
    if prompt_name is not None and not isinstance(prompt_name, str):
        raise InvalidArgument("prompt_name must be a string")
    call = TokenizeRequest(
        texts=texts,
        add_special_tokens=_flag(body, "add_special_tokens", default=True),
        details=True,
        prompted=True,
        prompt_name=prompt_name,
    )
    result = await dataplane.tokenize(model, call, inputs=len(texts))
    large = sum(len(row) for row in result.details) > ENCODE_OFF_LOOP_VALUES
    return json_bytes_response(await off_loop_if(large, lambda: encode_details(result)))


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _id_rows(value: object) -> tuple[tuple[int, ...], ...]:
    """TEI's `ids`: one list of ids (`[]` included), or a non-empty list of them."""
    if isinstance(value, list):
        if all(_is_id(token) for token in value):
            return (tuple(value),)
        if all(isinstance(row, list) and all(_is_id(token) for token in row) for row in value):
            return tuple(tuple(row) for row in value)
    raise InvalidArgument("ids must be a list of token ids or a non-empty list of such lists")


async def decode(request: web.Request) -> web.Response:
    body = body_of(await read_json(request))
    dataplane = request.app[DATAPLANE]
    model = model_of(dataplane, body)
    dataplane.graph(model)  # 404 / 503 before the input checks
    # Checking every id costs as much as decoding the body: off the loop when that was.
    large = (request.content_length or 0) > DECODE_OFF_LOOP_BYTES
    rows = await off_loop_if(large, lambda: _id_rows(body.get("ids")))
    call = DecodeRequest(rows=rows, skip_special_tokens=_flag(body, "skip_special_tokens", default=True))
    result = await dataplane.decode(model, call, inputs=len(rows))
    return json_bytes_response(dumps(list(result.texts)))


ROUTES = [
    web.post("/tokenize", tokenize),
    web.post("/decode", decode),
]
