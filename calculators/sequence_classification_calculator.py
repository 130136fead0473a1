"""SequenceClassificationCalculator: token tensors → a cross-encoder's `[N, labels]` logits.

Example config:
    node {
      name: "Classifier"
      calculator: "SequenceClassificationCalculator"
      input_side_packet: "MODEL:model"
      input_stream: "INPUT_IDS:input_ids"
      input_stream: "ATTENTION_MASK:attention_mask"
      input_stream: "TOKEN_TYPE_IDS:token_type_ids"
      output_stream: "LOGITS:logits"
      node_options: {
        [type.googleapis.com/ovserve.calculators.SequenceClassificationCalculatorOptions]: {
          batching { max_batch_size: 64 }
        }
      }
    }

`MODEL` is a `*ForSequenceClassification` export (optimum-intel's `text-classification` task); its
output `logits` (or `output_name`) must be `[batch, labels]`. Everything else is
`FeatureExtractionCalculator`'s: the model is fed the inputs it declares, and with batching on
(the server default, graph service `ovserve.graph.BATCHING`) the pairs of concurrent requests
are merged into few inferences by the same `DynamicBatcher`, and each run gets exactly its own
rows back. The compiled model's precision is read back and logged at load.
"""

from __future__ import annotations

from calculators.feature_extraction_calculator import (
    ATTENTION_MASK,
    INPUT_IDS,
    MODEL,
    TOKEN_TYPE_IDS,
    Extraction,
    input_batch,
    make_extraction,
)
from ovserve._proto.ovserve.calculators.sequence_classification_calculator_pb2 import (
    SequenceClassificationCalculatorOptions,
)
from ovserve.graph import (
    BATCHING,
    Calculator,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Output,
    register_calculator,
)
from ovserve.graph.formats.arrays import Float32Array

# MODEL, INPUT_IDS, ATTENTION_MASK and TOKEN_TYPE_IDS are FeatureExtractionCalculator's ports.
LOGITS = Output[Float32Array]("LOGITS")


@register_calculator
class SequenceClassificationCalculator(Calculator):
    """Runs the cross-encoder for one request's pairs, merged with concurrent ones when batching."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(MODEL, INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS, LOGITS)
        cc.set_options(SequenceClassificationCalculatorOptions)

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        options = lc.options(SequenceClassificationCalculatorOptions)
        lc.node_state = make_extraction(
            lc.side(MODEL), options, defaults=lc.service(BATCHING), where=lc.node_name, per_sequence=True
        )

    def process(self, ctx: CalculatorContext) -> None:
        state: Extraction = ctx.node_state
        ctx.set(LOGITS, state.run(input_batch(ctx)))
