"""RerankRequestCalculator: the graph's `REQUEST_PAYLOAD` → the validated `RerankRequest`.

Example config:
    node {
      name: "Request"
      calculator: "RerankRequestCalculator"
      input_stream: "REQUEST_PAYLOAD:input"
      output_stream: "RERANK_REQUEST:request"
      node_options: {
        [type.googleapis.com/ovserve.calculators.RerankRequestCalculatorOptions]: { max_documents: 1000 }
      }
    }

Accepted payloads: a `RerankRequest` (re-checked against `max_documents`), a decoded Cohere
JSON body (a mapping) or its raw JSON text (`str`/`bytes`), validated with
`ovserve.graph.formats.rerank.parse_rerank_body` (OVMS's error texts). Anything else, such as an
embeddings request sent to a rerank graph, is refused with `InvalidArgument`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ovserve._proto.ovserve.calculators.rerank_request_calculator_pb2 import RerankRequestCalculatorOptions
from ovserve.errors import ConfigError, InvalidArgument
from ovserve.graph import (
    Calculator,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Input,
    Output,
    register_calculator,
)
from ovserve.graph.formats.json_text import check_unicode, decode_bytes
from ovserve.graph.formats.rerank import (
    DEFAULT_MAX_DOCUMENTS,
    RerankRequest,
    parse_rerank_body,
    too_many_documents,
)

REQUEST = Input[object]("REQUEST_PAYLOAD")
RERANK_REQUEST = Output[RerankRequest]("RERANK_REQUEST")


def request_of(payload: object, *, max_documents: int) -> RerankRequest:
    """The rerank request of any accepted payload.

    Raises:
        InvalidArgument: a malformed body (OVMS texts), too many documents, or a payload
            that is not a rerank request.
    """
    if isinstance(payload, RerankRequest):
        if len(payload.documents) > max_documents:
            raise InvalidArgument(too_many_documents(len(payload.documents), max_documents))
        return payload
    if isinstance(payload, bytes | bytearray | str):
        try:
            text = payload if isinstance(payload, str) else decode_bytes(bytes(payload))
            payload = json.loads(text)
        except ValueError:
            raise InvalidArgument("Non-json request received in rerank calculator") from None
        check_unicode(payload, text)
    if isinstance(payload, Mapping):
        return parse_rerank_body(payload, max_documents=max_documents)
    if isinstance(payload, list | int | float | bool) or payload is None:
        raise InvalidArgument("Non-json request received in rerank calculator")
    raise InvalidArgument(f"a rerank graph cannot answer a {type(payload).__name__} request")


@register_calculator
class RerankRequestCalculator(Calculator):
    """Decodes one rerank request payload."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(REQUEST, RERANK_REQUEST)
        cc.set_options(RerankRequestCalculatorOptions)

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        options = lc.options(RerankRequestCalculatorOptions)
        limit = options.max_documents if options.HasField("max_documents") else DEFAULT_MAX_DOCUMENTS
        if limit < 1:
            raise ConfigError(f"{lc.node_name}: max_documents must be >= 1")
        lc.node_state = limit

    def process(self, ctx: CalculatorContext) -> None:
        ctx.set(RERANK_REQUEST, request_of(ctx.get(REQUEST), max_documents=ctx.node_state))
