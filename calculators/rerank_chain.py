"""The native rerank node chain, built for the OVMS rerank calculators' expansions.

request → pair tokenizer → sequence classification → relevance score → response; the chain
`graphs/rerank/graph.pbtxt` writes out by hand. Only side-packet names and the limits differ
between OVMS's two graph forms (`RerankCalculator` with sessions, `RerankCalculatorOV` with a
model directory), so both expand through `rerank_chain`.
"""

from __future__ import annotations

from dataclasses import dataclass

from calculators.embeddings_chain import make_node
from ovserve._proto.ovserve.calculators.pair_tokenizer_calculator_pb2 import PairTokenizerCalculatorOptions
from ovserve._proto.ovserve.calculators.relevance_score_calculator_pb2 import (
    RelevanceScoreCalculatorOptions,
)
from ovserve._proto.ovserve.calculators.rerank_request_calculator_pb2 import RerankRequestCalculatorOptions
from ovserve.errors import ConfigError
from ovserve.graph import ExpandContext, NodeConfig


@dataclass(frozen=True, kw_only=True)
class RerankSpec:
    """What varies between graph forms.

    Attributes:
        request_stream / response_stream: the expanded node's own stream names.
        tokenizer_packet / model_packet: side-packet names of the tokenizer and the cross-encoder.
        max_documents: most documents per request (OVMS's `max_allowed_chunks`).
        max_length: the longest pair in tokens; None: what the model records.
    """

    request_stream: str
    response_stream: str
    tokenizer_packet: str
    model_packet: str
    max_documents: int
    max_length: int | None


def rerank_chain(spec: RerankSpec, ec: ExpandContext) -> list[NodeConfig]:
    """The five per-request nodes, wired through fresh internal stream names.

    Raises:
        ConfigError: `max_documents` or `max_length` out of range.
    """
    where = ec.node_name
    if not 1 <= spec.max_documents < 2**32:
        raise ConfigError(f"{where}: max_allowed_chunks must be between 1 and {2**32 - 1}")
    if spec.max_length is not None and not 1 <= spec.max_length < 2**32:
        raise ConfigError(f"{where}: max_length must be between 1 and {2**32 - 1}")
    request, ids, mask, types, tokens, logits, scores = (
        ec.unique_name(hint)
        for hint in (
            "rerank_request",
            "input_ids",
            "attention_mask",
            "token_type_ids",
            "prompt_tokens",
            "logits",
            "scores",
        )
    )
    tokenizer_options = PairTokenizerCalculatorOptions()
    if spec.max_length is not None:
        tokenizer_options.max_length = spec.max_length
    model = f"MODEL:{spec.model_packet}"
    return [
        make_node(
            "RerankRequestCalculator",
            inputs=[f"REQUEST_PAYLOAD:{spec.request_stream}"],
            outputs=[f"RERANK_REQUEST:{request}"],
            options=RerankRequestCalculatorOptions(max_documents=spec.max_documents),
        ),
        make_node(
            "PairTokenizerCalculator",
            inputs=[f"RERANK_REQUEST:{request}"],
            outputs=[
                f"INPUT_IDS:{ids}",
                f"ATTENTION_MASK:{mask}",
                f"TOKEN_TYPE_IDS:{types}",
                f"PROMPT_TOKENS:{tokens}",
            ],
            side_inputs=[f"TOKENIZER:{spec.tokenizer_packet}", model],
            options=tokenizer_options,
        ),
        make_node(
            "SequenceClassificationCalculator",
            inputs=[f"INPUT_IDS:{ids}", f"ATTENTION_MASK:{mask}", f"TOKEN_TYPE_IDS:{types}"],
            outputs=[f"LOGITS:{logits}"],
            side_inputs=[model],
        ),
        make_node(
            "RelevanceScoreCalculator",
            inputs=[f"LOGITS:{logits}"],
            outputs=[f"SCORES:{scores}"],
            options=RelevanceScoreCalculatorOptions(ovms_label_rule=True),
        ),
        make_node(
            "RerankResponseCalculator",
            inputs=[f"RERANK_REQUEST:{request}", f"SCORES:{scores}", f"PROMPT_TOKENS:{tokens}"],
            outputs=[f"RESPONSE_PAYLOAD:{spec.response_stream}"],
        ),
    ]
