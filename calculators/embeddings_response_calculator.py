"""EmbeddingsResponseCalculator: vectors + token count → the graph's `RESPONSE_PAYLOAD`.

Example config:
    node {
      name: "Response"
      calculator: "EmbeddingsResponseCalculator"
      input_stream: "EMBEDDINGS:embeddings"
      input_stream: "PROMPT_TOKENS:prompt_tokens"
      input_stream: "TOKENS:tokens"             # optional: the /v3/tokenize branch
      output_stream: "RESPONSE_PAYLOAD:output"
    }

The packet is an `EmbeddingsResult` (float32 `[N, D]`, C-contiguous, plus `prompt_tokens`); the
front end that received the request encodes it (OpenAI float list or base64, KServe tensor).
On a tokenize or decode run only `TOKENS` has a packet, and its `TokenizeResult` or `DecodeResult`
is passed out as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ovserve.graph import (
    BatchCalculator,
    CalculatorContext,
    CalculatorContract,
    Input,
    Output,
    register_calculator,
)
from ovserve.graph.formats.arrays import Float32Array
from ovserve.graph.formats.embeddings import EmbeddingsResult
from ovserve.graph.formats.tokenize import TokenizerAnswer

EMBEDDINGS = Input[Float32Array]("EMBEDDINGS")
PROMPT_TOKENS = Input[int]("PROMPT_TOKENS", optional=True)
TOKENS = Input[TokenizerAnswer]("TOKENS", optional=True)
RESPONSE = Output[EmbeddingsResult | TokenizerAnswer]("RESPONSE_PAYLOAD")


@register_calculator
class EmbeddingsResponseCalculator(BatchCalculator):
    """Packs each run's result."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(EMBEDDINGS, PROMPT_TOKENS, TOKENS, RESPONSE)
        cc.process_in_batches()

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        for ctx in contexts:
            cls._pack(ctx)

    @staticmethod
    def _pack(ctx: CalculatorContext) -> None:
        if ctx.has(TOKENS):
            ctx.set(RESPONSE, ctx.get(TOKENS))
            return
        vectors = np.ascontiguousarray(ctx.get(EMBEDDINGS), dtype=np.float32)
        tokens = int(ctx.get(PROMPT_TOKENS)) if ctx.has(PROMPT_TOKENS) else 0
        ctx.set(RESPONSE, EmbeddingsResult(embeddings=vectors, prompt_tokens=tokens))
