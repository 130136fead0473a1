"""EmbeddingsRequestCalculator: the graph's `REQUEST_PAYLOAD` → the documents to embed.

Example config:
    node {
      name: "Request"
      calculator: "EmbeddingsRequestCalculator"
      input_stream: "REQUEST_PAYLOAD:input"
      output_stream: "INPUT:documents"
      output_stream: "TOKENIZE:tokenize_request"   # optional: serves /v3/tokenize
    }

Accepted payloads: an `EmbeddingsRequest` (what the front ends build), a bare `EmbeddingsInput`,
a decoded OpenAI JSON body (a mapping) or its raw JSON text (`str`/`bytes`). Bodies are validated
with `parse_embeddings_body`, so the errors carry OVMS's texts.

A `TokenizeBody` (what the front end sends for `/v3/tokenize`) is validated with
`parse_tokenize_body` and emitted on `TOKENIZE` instead (as are a `TokenizeRequest` or
`DecodeRequest` a front end built, TEI's `/tokenize` and `/decode`); `INPUT` then stays empty, so the
embeddings branch of the graph is skipped for that run. A graph without `TOKENIZE` answers a
tokenize call with UNIMPLEMENTED.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from ovserve.errors import InvalidArgument, Unimplemented
from ovserve.graph import (
    BatchCalculator,
    CalculatorContext,
    CalculatorContract,
    Input,
    Output,
    register_calculator,
)
from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsRequest, parse_embeddings_body
from ovserve.graph.formats.json_text import check_unicode, decode_bytes
from ovserve.graph.formats.tokenize import (
    DecodeRequest,
    TokenizeBody,
    TokenizerCall,
    TokenizeRequest,
    parse_tokenize_body,
)

REQUEST = Input[object]("REQUEST_PAYLOAD")
DOCUMENTS = Output[EmbeddingsInput]("INPUT")
TOKENIZE = Output[TokenizerCall]("TOKENIZE", optional=True)


def documents_of(payload: object) -> EmbeddingsInput:
    """The documents of any accepted payload.

    Raises:
        InvalidArgument: with the OVMS message for a malformed body or an unknown payload type;
            JSON text that is not valid UTF-8 counts as malformed, and a string holding a lone
            surrogate is named (`ovserve.graph.formats.json_text.check_unicode`).
    """
    if isinstance(payload, EmbeddingsRequest):
        return payload.input
    if isinstance(payload, EmbeddingsInput):
        return payload
    if isinstance(payload, bytes | bytearray | str):
        try:
            text = payload if isinstance(payload, str) else decode_bytes(bytes(payload))
            payload = json.loads(text)
        except ValueError:
            raise InvalidArgument("Received json is not an object") from None
        check_unicode(payload, text)
    if isinstance(payload, Mapping):
        return parse_embeddings_body(payload).input
    if isinstance(payload, list | int | float | bool) or payload is None:
        raise InvalidArgument("Received json is not an object")
    raise InvalidArgument("Non-json request received in embeddings calculator")


@register_calculator
class EmbeddingsRequestCalculator(BatchCalculator):
    """Decodes request payloads, each on its own (batched only to save the engine per-run work)."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(REQUEST, DOCUMENTS, TOKENIZE)
        cc.process_in_batches()

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        for ctx in contexts:
            _decode(ctx)


def _decode(ctx: CalculatorContext) -> None:
    """Set the run's `INPUT` or `TOKENIZE` packet from its payload."""
    payload = ctx.get(REQUEST)
    if isinstance(payload, TokenizeBody | TokenizeRequest | DecodeRequest):
        if not ctx.emits(TOKENIZE):
            raise Unimplemented(
                "this graph does not serve tokenize (its request node has no TOKENIZE stream)"
            )
        call = parse_tokenize_body(payload.body) if isinstance(payload, TokenizeBody) else payload
        ctx.set(TOKENIZE, call)
        return
    ctx.set(DOCUMENTS, documents_of(payload))
