"""RerankResponseCalculator: a request's scores → the graph's `RESPONSE_PAYLOAD` (a `RerankResult`).

Example config:
    node {
      name: "Response"
      calculator: "RerankResponseCalculator"
      input_stream: "RERANK_REQUEST:request"
      input_stream: "SCORES:scores"
      input_stream: "PROMPT_TOKENS:prompt_tokens"
      output_stream: "RESPONSE_PAYLOAD:output"
    }

Results are sorted by score, highest first, ties in request order (a stable order, where OVMS's
`std::sort` leaves ties unspecified), cut to the request's `top_n`, each with its document's
text when `return_documents` is set (`ovserve.graph.formats.rerank.rank`). Writing Cohere's JSON
is the front end's job.
"""

from __future__ import annotations

from collections.abc import Sequence

from ovserve.errors import InternalError
from ovserve.graph import (
    BatchCalculator,
    CalculatorContext,
    CalculatorContract,
    Input,
    Output,
    register_calculator,
)
from ovserve.graph.formats.arrays import Float32Array
from ovserve.graph.formats.rerank import RerankRequest, RerankResult, rank

RERANK_REQUEST = Input[RerankRequest]("RERANK_REQUEST")
SCORES = Input[Float32Array]("SCORES")
PROMPT_TOKENS = Input[int]("PROMPT_TOKENS")
RESPONSE = Output[RerankResult]("RESPONSE_PAYLOAD")


@register_calculator
class RerankResponseCalculator(BatchCalculator):
    """Ranks each run's documents by their scores."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(RERANK_REQUEST, SCORES, PROMPT_TOKENS, RESPONSE)
        cc.process_in_batches()

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        for ctx in contexts:
            request, scores = ctx.get(RERANK_REQUEST), ctx.get(SCORES)
            if len(scores) != len(request.documents):
                raise InternalError(f"{len(scores)} scores for {len(request.documents)} documents")
            ctx.set(RESPONSE, rank(request, scores, ctx.get(PROMPT_TOKENS)))
