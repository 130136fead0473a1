"""RelevanceScoreCalculator: sigmoid of the chosen logit, as CrossEncoder scores one-label models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import calculators  # noqa: F401  # registers the built-ins
from calculators.relevance_score_calculator import relevance_scores
from ovserve.errors import ConfigError, InternalError
from ovserve.testing import CalculatorRunner

NODE = (
    'calculator: "RelevanceScoreCalculator" input_stream: "LOGITS:l" output_stream: "SCORES:s" '
    "node_options: { [type.googleapis.com/ovserve.calculators.RelevanceScoreCalculatorOptions]: { %s } }"
)


def test_sigmoid_matches_torch_at_both_ends() -> None:
    logits = np.array([[-200.0], [-30.0], [-1.5], [0.0], [0.25], [17.0], [200.0]], dtype=np.float32)
    expected = torch.sigmoid(torch.from_numpy(logits[:, 0])).numpy()
    scores = relevance_scores(logits, label=None, sigmoid=True)
    assert scores.dtype == np.float32
    assert scores.shape == (7,)
    np.testing.assert_allclose(scores, expected, rtol=1e-6, atol=0)
    assert np.all(np.isfinite(scores))


def run(runner: CalculatorRunner, logits: np.ndarray) -> np.ndarray:
    scores = runner.run(LOGITS=logits)["SCORES"]
    assert isinstance(scores, np.ndarray)
    return scores


def test_node_options() -> None:
    logits = np.array([[0.5, -2.0], [3.0, 1.0]], dtype=np.float32)
    with CalculatorRunner(NODE % "activation: NONE label: 1") as runner:
        np.testing.assert_array_equal(run(runner, logits), [-2.0, 1.0])
    with CalculatorRunner(NODE % "label: 0") as runner:
        np.testing.assert_allclose(run(runner, logits), 1 / (1 + np.exp([-0.5, -3.0])), rtol=1e-6)
    with CalculatorRunner(NODE % "") as runner:
        one = run(runner, logits[:, :1])
        np.testing.assert_allclose(one, 1 / (1 + np.exp([-0.5, -3.0])), rtol=1e-6)
        with pytest.raises(InternalError, match="has 2 labels; set `label`"):
            runner.run(LOGITS=logits)
    with CalculatorRunner(NODE % "ovms_label_rule: true") as runner:  # OVMS's forms: column 1 of many
        np.testing.assert_allclose(run(runner, logits), 1 / (1 + np.exp([2.0, -1.0])), rtol=1e-6)
        np.testing.assert_allclose(run(runner, logits[:, :1]), 1 / (1 + np.exp([-0.5, -3.0])), rtol=1e-6)
    with CalculatorRunner(NODE % "ovms_label_rule: true label: 0") as runner:  # label wins
        np.testing.assert_allclose(run(runner, logits), 1 / (1 + np.exp([-0.5, -3.0])), rtol=1e-6)


@pytest.mark.parametrize(
    ("logits", "label", "message"),
    [
        (np.zeros((2,), np.float32), None, r"must be \[N, labels\]"),
        (np.zeros((2, 1), np.float32), 1, "label 1 but the model has 1 labels"),
    ],
)
def test_mismatched_models(logits: np.ndarray, label: int | None, message: str) -> None:
    with pytest.raises(InternalError, match=message):
        relevance_scores(logits, label=label, sigmoid=True)


def test_unknown_activation_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        CalculatorRunner(NODE % "activation: 7")
