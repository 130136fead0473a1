"""NormalizeCalculator: L2-normalises each row of a `[N, D]` float32 matrix (norm clamped to >= 1e-12).

Example config:
    node {
      name: "Normalize"
      calculator: "NormalizeCalculator"
      input_stream: "EMBEDDINGS:pooled"
      output_stream: "EMBEDDINGS:embeddings"
      node_options: {
        [type.googleapis.com/ovserve.calculators.NormalizeCalculatorOptions]: { enabled: true }
      }
    }

`enabled: false` passes the vectors through unchanged (OVMS `normalize_embeddings: false`), so
every graph form keeps the same node chain.
"""

from __future__ import annotations

from collections.abc import Sequence

from calculators.vectors import l2_normalize_many
from ovserve._proto.ovserve.calculators.normalize_calculator_pb2 import NormalizeCalculatorOptions
from ovserve.graph import (
    BatchCalculator,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Input,
    Output,
    register_calculator,
)
from ovserve.graph.formats.arrays import Float32Array

EMBEDDINGS_IN = Input[Float32Array]("EMBEDDINGS")
EMBEDDINGS_OUT = Output[Float32Array]("EMBEDDINGS")


def normalize_enabled(options: NormalizeCalculatorOptions) -> bool:
    """Whether `options` asks for L2 normalisation (unset: yes)."""
    return options.enabled if options.HasField("enabled") else True


@register_calculator
class NormalizeCalculator(BatchCalculator):
    """Normalises each run's vectors (or passes them through when disabled)."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(EMBEDDINGS_IN, EMBEDDINGS_OUT)
        cc.set_options(NormalizeCalculatorOptions)
        cc.process_in_batches()

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        lc.node_state = normalize_enabled(lc.options(NormalizeCalculatorOptions))

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        vectors = [ctx.get(EMBEDDINGS_IN) for ctx in contexts]
        if contexts[0].node_state:  # runs of one width are normalised together, row by row
            vectors = l2_normalize_many(vectors)
        for ctx, out in zip(contexts, vectors, strict=True):
            ctx.set(EMBEDDINGS_OUT, out)
