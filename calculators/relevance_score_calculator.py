"""RelevanceScoreCalculator: a `[N, L]` logits matrix → `N` float32 relevance scores.

Example config:
    node {
      name: "Score"
      calculator: "RelevanceScoreCalculator"
      input_stream: "LOGITS:logits"
      output_stream: "SCORES:scores"
      node_options: {
        [type.googleapis.com/ovserve.calculators.RelevanceScoreCalculatorOptions]: { activation: SIGMOID }
      }
    }

Score of row i: `activation(logits[i, label])`. SIGMOID is what sentence-transformers'
`CrossEncoder.predict` applies to one-label models; it is computed in float64 and stored as
float32, so it equals the reference to float32 rounding for any logit (no overflow for large
negative logits). `label` unset means column 0 and requires exactly one column, unless
`ovms_label_rule` (set by OVMS's rerank forms) picks column 1 of a model with more columns, as
OVMS does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ovserve._proto.ovserve.calculators.relevance_score_calculator_pb2 import (
    RelevanceScoreCalculatorOptions,
)
from ovserve.errors import ConfigError, InternalError
from ovserve.graph import (
    BatchCalculator,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Input,
    Output,
    register_calculator,
)

Float32Array = npt.NDArray[np.float32]

LOGITS = Input[npt.NDArray[np.floating]]("LOGITS")
SCORES = Output[Float32Array]("SCORES")


def relevance_scores(
    logits: npt.NDArray[np.floating], *, label: int | None, sigmoid: bool, ovms_rule: bool = False
) -> Float32Array:
    """The scores of a `[N, L]` logits matrix (see the module doc).

    Raises:
        InternalError: `logits` is not 2-D, `label` is unset for a model with L != 1 (without
            `ovms_rule`), or `label` >= L (the graph does not fit its model).
    """
    if logits.ndim != 2:
        raise InternalError(f"RelevanceScoreCalculator: logits must be [N, labels], got shape {logits.shape}")
    labels = logits.shape[1]
    if label is None and ovms_rule:
        label = 0 if labels == 1 else 1
    if label is None:
        if labels != 1:
            raise InternalError(
                f"RelevanceScoreCalculator: the model has {labels} labels; set `label` to the relevant one"
            )
        label = 0
    if label >= labels:
        raise InternalError(f"RelevanceScoreCalculator: label {label} but the model has {labels} labels")
    column = logits[:, label].astype(np.float64)
    if sigmoid:
        # exp of a non-positive number only: stable at both ends.
        e = np.exp(-np.abs(column))
        column = np.where(column >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return column.astype(np.float32)


@register_calculator
class RelevanceScoreCalculator(BatchCalculator):
    """Scores each run's (query, document) pairs from their logits."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(LOGITS, SCORES)
        cc.set_options(RelevanceScoreCalculatorOptions)
        cc.process_in_batches()

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        options = lc.options(RelevanceScoreCalculatorOptions)
        if options.activation not in RelevanceScoreCalculatorOptions.Activation.values():
            raise ConfigError(f"{lc.node_name}: unknown activation {options.activation}")
        label = options.label if options.HasField("label") else None
        sigmoid = options.activation == RelevanceScoreCalculatorOptions.SIGMOID
        lc.node_state = (label, sigmoid, options.ovms_label_rule)

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        for ctx in contexts:
            label, sigmoid, ovms_rule = ctx.node_state
            scores = relevance_scores(ctx.get(LOGITS), label=label, sigmoid=sigmoid, ovms_rule=ovms_rule)
            ctx.set(SCORES, scores)
