"""RerankCalculator: OVMS's rerank calculator of the sessions form, served by expansion.

Example config (the graph `export_model.py rerank` wrote before OVMS 2026.0; the two `SESSION`
side packets come from `OpenVINOModelServerSessionCalculator` nodes of the same graph):
    node {
      input_side_packet: "TOKENIZER_SESSION:tokenizer"
      input_side_packet: "RERANK_SESSION:rerank"
      calculator: "RerankCalculator"
      input_stream: "REQUEST_PAYLOAD:input"
      output_stream: "RESPONSE_PAYLOAD:output"
    }

A `Subgraph`: the node becomes the native chain (`RerankRequestCalculator` →
`PairTokenizerCalculator` → `SequenceClassificationCalculator` → `RelevanceScoreCalculator` →
`RerankResponseCalculator`), with the tokenizer session as `TOKENIZER` and the rerank session as
`MODEL`. OVMS's options message has no fields; ovserve reads `max_allowed_chunks` (default
10000) and `max_length` there when given.
"""

from __future__ import annotations

from calculators.embeddings_chain import port_name
from calculators.rerank_chain import RerankSpec, rerank_chain
from ovserve._proto.ovms.rerank.rerank_calculator_pb2 import RerankCalculatorOptions
from ovserve.graph import (
    CalculatorContract,
    ExpandContext,
    Input,
    InputSidePacket,
    LoadedModel,
    NodeConfig,
    Output,
    Subgraph,
    register_calculator,
)

TOKENIZER_SESSION = InputSidePacket[LoadedModel]("TOKENIZER_SESSION")
RERANK_SESSION = InputSidePacket[LoadedModel]("RERANK_SESSION")
REQUEST = Input[object]("REQUEST_PAYLOAD")
RESPONSE = Output[object]("RESPONSE_PAYLOAD")


@register_calculator
class RerankCalculator(Subgraph):
    """Expands OVMS's sessions-form rerank node into the native chain."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TOKENIZER_SESSION, RERANK_SESSION, REQUEST, RESPONSE)
        cc.set_options(RerankCalculatorOptions)

    @classmethod
    def expand(cls, node: NodeConfig, ec: ExpandContext) -> list[NodeConfig]:
        options = ec.options(RerankCalculatorOptions)
        where = ec.node_name
        spec = RerankSpec(
            request_stream=port_name(node.input_stream, REQUEST.tag, where=where),
            response_stream=port_name(node.output_stream, RESPONSE.tag, where=where),
            tokenizer_packet=port_name(node.input_side_packet, TOKENIZER_SESSION.tag, where=where),
            model_packet=port_name(node.input_side_packet, RERANK_SESSION.tag, where=where),
            max_documents=options.max_allowed_chunks,
            max_length=options.max_length if options.HasField("max_length") else None,
        )
        return rerank_chain(spec, ec)
