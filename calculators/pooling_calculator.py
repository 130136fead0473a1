"""PoolingCalculator: `[N, L, D]` hidden states + attention mask → one `[N, D]` float32 vector per row.

Example config:
    node {
      name: "Pooling"
      calculator: "PoolingCalculator"
      input_side_packet: "MODEL:model"
      input_stream: "HIDDEN_STATES:hidden_states"
      input_stream: "ATTENTION_MASK:attention_mask"
      output_stream: "EMBEDDINGS:pooled"
      node_options: {
        [type.googleapis.com/ovserve.calculators.PoolingCalculatorOptions]: { mode: MEAN }
      }
    }

Modes (as OVMS pools): CLS = token 0; MEAN = mask-weighted mean with the divisor clamped to
>= 1e-12; LAST = token at sum(mask) - 1. `mode: AUTO` (the default) decides once at load from
the optional `MODEL` side packet: the exporter's rt_info `ovserve_pooling`, else the model
directory's `1_Pooling/config.json` (sentence-transformers), else `fallback` (CLS when unset,
as OVMS). An unsupported `1_Pooling` mode fails the graph at load.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from calculators import model_facts
from calculators.vectors import PoolingMode, pool_many
from ovserve._proto.ovserve.calculators.pooling_calculator_pb2 import PoolingCalculatorOptions
from ovserve.graph import (
    BatchCalculator,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Input,
    InputSidePacket,
    LoadedModel,
    Output,
    register_calculator,
)
from ovserve.graph.formats.arrays import Float32Array, Int64Array

MODEL = InputSidePacket[LoadedModel]("MODEL", optional=True)
HIDDEN_STATES = Input[Float32Array]("HIDDEN_STATES")
ATTENTION_MASK = Input[Int64Array]("ATTENTION_MASK")
EMBEDDINGS = Output[Float32Array]("EMBEDDINGS")


def resolve_mode(options: PoolingCalculatorOptions, model: LoadedModel | None, *, where: str) -> PoolingMode:
    """The mode a node pools with: explicit, else detected, else the fallback, else CLS.

    Raises:
        ConfigError: the recorded or sentence-transformers pooling is unknown or unsupported.
    """
    modes = PoolingCalculatorOptions.Mode
    if options.mode != modes.AUTO:
        return cast(PoolingMode, modes.Name(options.mode))
    if model is not None:
        detected = model_facts.detect_pooling(model_facts.model_info(model.model), model.path, where=where)
        if detected is not None:
            return cast(PoolingMode, detected)
    return cast(PoolingMode, modes.Name(options.fallback)) if options.fallback != modes.AUTO else "CLS"


@register_calculator
class PoolingCalculator(BatchCalculator):
    """Pools each run's hidden states (concurrent runs in one call); see the module docstring."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(MODEL, HIDDEN_STATES, ATTENTION_MASK, EMBEDDINGS)
        cc.set_options(PoolingCalculatorOptions)
        cc.process_in_batches()

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        model = lc.side(MODEL) if MODEL.tag in lc.side_packets else None
        lc.node_state = resolve_mode(lc.options(PoolingCalculatorOptions), model, where=lc.node_name)

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        # Runs of one shape are pooled together; each run's vectors still depend on its rows only.
        mode: PoolingMode = contexts[0].node_state
        pooled = pool_many(
            [ctx.get(HIDDEN_STATES) for ctx in contexts],
            [np.asarray(ctx.get(ATTENTION_MASK), dtype=np.int64) for ctx in contexts],
            mode,
        )
        for ctx, vectors in zip(contexts, pooled, strict=True):
            ctx.set(EMBEDDINGS, vectors)
