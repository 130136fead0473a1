"""The three graph forms validate into the native steps (no model needed): the native graph
writes each step as a node, the OVMS forms expand into the chain that pools at the model's
output (`calculators.embeddings_chain`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import calculators  # noqa: F401  # registers the built-ins
from ovserve._proto.ovserve.calculators.feature_extraction_calculator_pb2 import (
    FeatureExtractionCalculatorOptions,
)
from ovserve._proto.ovserve.calculators.normalize_calculator_pb2 import NormalizeCalculatorOptions
from ovserve._proto.ovserve.calculators.pooling_calculator_pb2 import PoolingCalculatorOptions
from ovserve._proto.ovserve.calculators.tokenizer_calculator_pb2 import TokenizerCalculatorOptions
from ovserve.errors import ConfigError
from ovserve.graph import default_registry
from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsResult
from ovserve.graph.node_check import ValidatedNode
from ovserve.graph.parser import parse_graph_text
from ovserve.graph.validation import validate_graph
from ovserve.testing import CalculatorRunner
from tests.calculators.graphs import OLD_GRAPH

REPO = Path(__file__).resolve().parents[2]
NATIVE_GRAPH = REPO / "graphs" / "embeddings" / "graph.pbtxt"
NATIVE_STEPS = [
    "EmbeddingsRequestCalculator",
    "TokenizerCalculator",
    "FeatureExtractionCalculator",
    "PoolingCalculator",
    "NormalizeCalculator",
    "EmbeddingsResponseCalculator",
]
CHAIN = [
    "EmbeddingsRequestCalculator",
    "TokenizerCalculator",
    "FeatureExtractionCalculator",
    "EmbeddingsResponseCalculator",
]
NEW_GRAPH = """
# OVMS_GRAPH_QUEUE_MAX_SIZE: AUTO
input_stream: "REQUEST_PAYLOAD:input"
output_stream: "RESPONSE_PAYLOAD:output"
node {
  name: "EmbeddingsExecutor"
  input_side_packet: "EMBEDDINGS_NODE_RESOURCES:embeddings_servable"
  calculator: "EmbeddingsCalculatorOV"
  input_stream: "REQUEST_PAYLOAD:input"
  output_stream: "RESPONSE_PAYLOAD:output"
  node_options: {
    [type.googleapis.com / mediapipe.EmbeddingsCalculatorOVOptions]: {
      models_path: "./",
      plugin_config: '{"NUM_STREAMS": "1" }',
      normalize_embeddings: true,
      %s
      target_device: "CPU",
    }
  }
}
"""


def expand(text: str) -> list[ValidatedNode]:
    parsed = parse_graph_text(text, Path("/ws/graph.pbtxt"))
    return list(validate_graph(parsed, registry=default_registry, base_path=Path("/ws")).nodes)


def options_of(nodes: list[ValidatedNode], calculator: str) -> object:
    (node,) = [n for n in nodes if n.calculator == calculator]
    return node.options


def extraction_options(nodes: list[ValidatedNode]) -> FeatureExtractionCalculatorOptions:
    options = options_of(nodes, "FeatureExtractionCalculator")
    assert isinstance(options, FeatureExtractionCalculatorOptions)
    return options


def test_native_graph_writes_every_step_as_a_node() -> None:
    nodes = expand(NATIVE_GRAPH.read_text())
    assert [n.calculator for n in nodes] == ["EmbeddingsServableCalculator", *NATIVE_STEPS]


def test_old_ovms_graph_expands_into_the_chain() -> None:
    nodes = expand(OLD_GRAPH)
    assert [n.calculator for n in nodes] == ["OpenVINOModelServerSessionCalculator"] * 2 + CHAIN
    assert {n.origin for n in nodes[2:]} == {"EmbeddingsCalculator"}  # errors name the user's node
    extraction = extraction_options(nodes)
    assert extraction.normalize == NormalizeCalculatorOptions(enabled=False)
    assert extraction.pooling == PoolingCalculatorOptions(
        mode=PoolingCalculatorOptions.AUTO, fallback=PoolingCalculatorOptions.CLS
    )
    (extraction_node,) = [n for n in nodes if n.calculator == "FeatureExtractionCalculator"]
    assert [str(ref).split(":")[0] for ref in extraction_node.config.output_stream] == ["EMBEDDINGS"]
    assert options_of(nodes, "TokenizerCalculator") == TokenizerCalculatorOptions()


@pytest.mark.parametrize(
    ("line", "mode", "truncate"),
    [
        ("pooling: MEAN, truncate: true,", PoolingCalculatorOptions.MEAN, True),
        ("pooling: LAST,", PoolingCalculatorOptions.LAST, False),
        ("", PoolingCalculatorOptions.AUTO, False),
    ],
)
def test_new_ovms_graph_expands_into_servable_and_chain(line: str, mode: int, truncate: bool) -> None:
    nodes = expand(NEW_GRAPH % line)
    assert [n.calculator for n in nodes] == ["EmbeddingsServableCalculator", *CHAIN]
    assert {n.origin for n in nodes} == {"EmbeddingsExecutor"}
    extraction = extraction_options(nodes)
    assert extraction.pooling.mode == mode
    assert extraction.normalize == NormalizeCalculatorOptions(enabled=True)
    assert options_of(nodes, "TokenizerCalculator") == TokenizerCalculatorOptions(truncate=truncate)


def test_feature_extraction_emits_hidden_states_or_embeddings_not_both() -> None:
    hidden = 'output_stream: "HIDDEN_STATES:hidden_states"'
    text = NATIVE_GRAPH.read_text().replace(hidden, f'{hidden}\n  output_stream: "EMBEDDINGS:vectors"')
    with pytest.raises(ConfigError, match=r'node "Embeddings" .*HIDDEN_STATES .* or EMBEDDINGS .*, not both'):
        expand(text)


def test_new_ovms_graph_needs_a_node_name() -> None:
    text = (NEW_GRAPH % "").replace('name: "EmbeddingsExecutor"', "")
    with pytest.raises(ConfigError, match="an EmbeddingsCalculatorOV node needs a name"):
        expand(text)


def test_normalize_runner() -> None:
    node = """
      calculator: "NormalizeCalculator"
      input_stream: "EMBEDDINGS:pooled"
      output_stream: "EMBEDDINGS:embeddings"
      node_options: { [type.googleapis.com/ovserve.calculators.NormalizeCalculatorOptions]: { %s } }
    """
    vectors = np.array([[3.0, 4.0]], dtype=np.float32)
    with CalculatorRunner(node % "") as runner:
        normalized = runner.run(EMBEDDINGS=vectors)["EMBEDDINGS"]
    assert isinstance(normalized, np.ndarray)
    np.testing.assert_allclose(normalized, [[0.6, 0.8]], rtol=1e-6)
    with CalculatorRunner(node % "enabled: false") as runner:
        assert runner.run(EMBEDDINGS=vectors)["EMBEDDINGS"] is vectors


def test_request_and_response_runners() -> None:
    request = CalculatorRunner(
        'calculator: "EmbeddingsRequestCalculator" '
        'input_stream: "REQUEST_PAYLOAD:in" output_stream: "INPUT:docs"'
    )
    with request:
        documents = request.run(REQUEST_PAYLOAD={"input": [[1, 2]]})["INPUT"]
    assert documents == EmbeddingsInput(token_ids=((1, 2),))
    response = CalculatorRunner(
        'calculator: "EmbeddingsResponseCalculator" input_stream: "EMBEDDINGS:e" '
        'input_stream: "PROMPT_TOKENS:t" output_stream: "RESPONSE_PAYLOAD:out"'
    )
    with response:
        out = response.run(EMBEDDINGS=np.ones((2, 3), dtype=np.float64), PROMPT_TOKENS=7)
    result = out["RESPONSE_PAYLOAD"]
    assert isinstance(result, EmbeddingsResult)
    assert result.embeddings.dtype == np.float32
    assert result.prompt_tokens == 7
