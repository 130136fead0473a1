"""FeatureExtractionCalculator: token tensors → the model's `[N, L, D]` hidden states (OpenVINO).

Example config:
    node {
      name: "Embeddings"
      calculator: "FeatureExtractionCalculator"
      input_side_packet: "MODEL:model"
      input_stream: "INPUT_IDS:input_ids"
      input_stream: "ATTENTION_MASK:attention_mask"
      input_stream: "TOKEN_TYPE_IDS:token_type_ids"
      output_stream: "HIDDEN_STATES:hidden_states"
    }

`MODEL` is a loaded feature-extraction model (an `OpenVINOModelServerSessionCalculator` session or
an `EmbeddingsServableCalculator` model); its compiled form is shared by all runs, each run borrows
an `InferRequest`. The model is fed only the inputs it declares (`token_type_ids` is optional and
zero when not connected); the output is the first of rank 3 unless
`FeatureExtractionCalculatorOptions.output_name` names one. A model without such an output fails
the graph at load, as in OVMS.
"""

from __future__ import annotations

import numpy as np

from calculators.ov_model import FeatureExtractor
from calculators.tokens import Int64Array, TokenBatch
from calculators.vectors import Float32Array
from ovserve._proto.ovserve.calculators.feature_extraction_calculator_pb2 import (
    FeatureExtractionCalculatorOptions,
)
from ovserve.graph import (
    Calculator,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Input,
    InputSidePacket,
    LoadedModel,
    Output,
    register_calculator,
)

MODEL = InputSidePacket[LoadedModel]("MODEL")
INPUT_IDS = Input[Int64Array]("INPUT_IDS")
ATTENTION_MASK = Input[Int64Array]("ATTENTION_MASK")
TOKEN_TYPE_IDS = Input[Int64Array]("TOKEN_TYPE_IDS", optional=True)
HIDDEN_STATES = Output[Float32Array]("HIDDEN_STATES")


@register_calculator
class FeatureExtractionCalculator(Calculator):
    """Runs the embeddings model once per request."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(MODEL, INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS, HIDDEN_STATES)
        cc.set_options(FeatureExtractionCalculatorOptions)

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        options = lc.options(FeatureExtractionCalculatorOptions)
        lc.node_state = FeatureExtractor(
            lc.side(MODEL).compiled, output_name=options.output_name, where=lc.node_name
        )

    def process(self, ctx: CalculatorContext) -> None:
        extractor: FeatureExtractor = ctx.node_state
        ids = np.asarray(ctx.get(INPUT_IDS), dtype=np.int64)
        mask = np.asarray(ctx.get(ATTENTION_MASK), dtype=np.int64)
        types = np.asarray(ctx.get(TOKEN_TYPE_IDS), dtype=np.int64) if ctx.has(TOKEN_TYPE_IDS) else None
        batch = TokenBatch(
            input_ids=ids,
            attention_mask=mask,
            token_type_ids=types if types is not None else np.zeros_like(ids),
        )
        ctx.set(HIDDEN_STATES, extractor.run(batch))
