"""EmbeddingsCalculator: OVMS's first embeddings calculator (2024.5–2025.3), served by expansion.

Example config (the old OVMS graph; the two `SESSION` side packets come from
`OpenVINOModelServerSessionCalculator` nodes of the same graph):
    node {
      calculator: "EmbeddingsCalculator"
      input_side_packet: "TOKENIZER_SESSION:tokenizer"
      input_side_packet: "EMBEDDINGS_SESSION:embeddings"
      input_stream: "REQUEST_PAYLOAD:input"
      output_stream: "RESPONSE_PAYLOAD:output"
      node_options: {
        [type.googleapis.com / mediapipe.EmbeddingsCalculatorOptions]: { normalize_embeddings: true }
      }
    }

A `Subgraph`: the node becomes the native chain (request → `TokenizerCalculator` →
`FeatureExtractionCalculator`, pooling and normalizing at the model's output → response), with
the tokenizer session as `TOKENIZER` and the embeddings session as `MODEL`. Behaviour:

* max length M: the embeddings model's rt_info (ovserve's recorded max length, else the HF
  `max_position_embeddings` / `max_trained_positions` OVMS's exporter copies there), else 1024.
* truncation: ovserve's recorded `ovserve_truncate` when present; otherwise the tokenizer is used
  as exported (OVMS's `--truncate` baked the cut into it) and N > M is rejected.
* pooling: OVMS always took the first token (CLS), whatever `mean_pooling` said. An ovserve
  export records the model's real pooling in rt_info (`ovserve_pooling`), and that wins: the
  versioned layout has no other place to say it, and CLS would give wrong vectors for
  mean-pooled models. Without the key: CLS, as OVMS. `mean_pooling` is ignored, as OVMS did.
* `normalize_embeddings` (default true): L2 with eps 1e-12.
"""

from __future__ import annotations

from calculators.embeddings_chain import ChainSpec, embeddings_chain, port_name
from ovserve._proto.ovms.embeddings.embeddings_calculator_pb2 import EmbeddingsCalculatorOptions
from ovserve._proto.ovserve.calculators.pooling_calculator_pb2 import PoolingCalculatorOptions
from ovserve._proto.ovserve.calculators.tokenizer_calculator_pb2 import TokenizerCalculatorOptions
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
EMBEDDINGS_SESSION = InputSidePacket[LoadedModel]("EMBEDDINGS_SESSION")
REQUEST = Input[object]("REQUEST_PAYLOAD")
RESPONSE = Output[object]("RESPONSE_PAYLOAD")


@register_calculator
class EmbeddingsCalculator(Subgraph):
    """Expands OVMS's old embeddings node into the native chain."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TOKENIZER_SESSION, EMBEDDINGS_SESSION, REQUEST, RESPONSE)
        cc.set_options(EmbeddingsCalculatorOptions)

    @classmethod
    def expand(cls, node: NodeConfig, ec: ExpandContext) -> list[NodeConfig]:
        options = ec.options(EmbeddingsCalculatorOptions)
        where = ec.node_name
        spec = ChainSpec(
            request_stream=port_name(node.input_stream, REQUEST.tag, where=where),
            response_stream=port_name(node.output_stream, RESPONSE.tag, where=where),
            tokenizer_packet=port_name(node.input_side_packet, TOKENIZER_SESSION.tag, where=where),
            model_packet=port_name(node.input_side_packet, EMBEDDINGS_SESSION.tag, where=where),
            # max_length and truncate unset: both come from the embeddings model (see above).
            tokenizer=TokenizerCalculatorOptions(),
            pooling=PoolingCalculatorOptions(
                mode=PoolingCalculatorOptions.AUTO, fallback=PoolingCalculatorOptions.CLS
            ),
            normalize=options.normalize_embeddings,
        )
        return embeddings_chain(spec, ec)
