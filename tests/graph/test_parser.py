"""graph.pbtxt parsing: both option forms, OVMS graphs verbatim, directive, error positions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ovserve._proto.mediapipe.calculators.ovms.openvinomodelserversessioncalculator_pb2 import (
    OpenVINOModelServerSessionCalculatorOptions,
)
from ovserve._proto.ovms.embeddings.embeddings_calculator_ov_pb2 import EmbeddingsCalculatorOVOptions
from ovserve._proto.ovms.embeddings.embeddings_calculator_pb2 import EmbeddingsCalculatorOptions
from ovserve.errors import ConfigError
from ovserve.graph.options import extract_options, option_type_names
from ovserve.graph.parser import parse_graph_file, parse_graph_text, parse_node_text

# The old graph, as `export_model.py embeddings` writes it (2024.5–2025.3).
OVMS_OLD_GRAPH = """\
input_stream: "REQUEST_PAYLOAD:input"
output_stream: "RESPONSE_PAYLOAD:output"
node {
  calculator: "OpenVINOModelServerSessionCalculator"
  output_side_packet: "SESSION:tokenizer"
  node_options: {
    [type.googleapis.com / mediapipe.OpenVINOModelServerSessionCalculatorOptions]: {
      servable_name: "BAAI/bge-small_tokenizer_model"
    }
  }
}
node {
  calculator: "OpenVINOModelServerSessionCalculator"
  output_side_packet: "SESSION:embeddings"
  node_options: {
    [type.googleapis.com / mediapipe.OpenVINOModelServerSessionCalculatorOptions]: {
      servable_name: "BAAI/bge-small_embeddings_model"
    }
  }
}
node {
  input_side_packet: "TOKENIZER_SESSION:tokenizer"
  input_side_packet: "EMBEDDINGS_SESSION:embeddings"
  calculator: "EmbeddingsCalculator"
  input_stream: "REQUEST_PAYLOAD:input"
  output_stream: "RESPONSE_PAYLOAD:output"
  node_options: {
    [type.googleapis.com / mediapipe.EmbeddingsCalculatorOptions]: {
      normalize_embeddings: true,
    }
  }
}
"""

# The new graph, as `export_model.py embeddings_ov` / `--task embeddings` write it (2026.2+).
OVMS_NEW_GRAPH = """\
# File created with: OpenVINO Model Server 2026.2.0
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
      pooling: CLS,
      truncate: true,
      target_device: "CPU",
    }
  }
}
"""


def test_ovms_old_graph_parses_with_session_options() -> None:
    parsed = parse_graph_text(OVMS_OLD_GRAPH, "old/graph.pbtxt")
    config = parsed.config
    assert list(config.input_stream) == ["REQUEST_PAYLOAD:input"]
    assert [n.calculator for n in config.node] == [
        "OpenVINOModelServerSessionCalculator",
        "OpenVINOModelServerSessionCalculator",
        "EmbeddingsCalculator",
    ]
    session = extract_options(config.node[1], OpenVINOModelServerSessionCalculatorOptions, where="t")
    assert session is not None
    assert session.servable_name == "BAAI/bge-small_embeddings_model"
    assert not session.HasField("servable_version")
    embeddings = extract_options(config.node[2], EmbeddingsCalculatorOptions, where="t")
    assert embeddings is not None
    assert embeddings.normalize_embeddings is True
    assert parsed.queue_max_size is None


def test_ovms_new_graph_parses_with_directive_and_all_options() -> None:
    parsed = parse_graph_text(OVMS_NEW_GRAPH, "new/graph.pbtxt")
    assert parsed.queue_max_size == "AUTO"
    node = parsed.config.node[0]
    assert option_type_names(node) == ["mediapipe.EmbeddingsCalculatorOVOptions"]
    options = extract_options(node, EmbeddingsCalculatorOVOptions, where="t")
    assert options is not None
    assert options.models_path == "./"
    assert options.plugin_config == '{"NUM_STREAMS": "1" }'
    assert options.pooling == EmbeddingsCalculatorOVOptions.CLS
    assert options.HasField("pooling")
    assert options.truncate is True
    assert options.target_device == "CPU"


@pytest.mark.parametrize(
    "any_header",
    [
        "[type.googleapis.com/mediapipe.EmbeddingsCalculatorOVOptions]:",
        "[type.googleapis.com / mediapipe.EmbeddingsCalculatorOVOptions]:",
        "[type.googleapis.com/ mediapipe.EmbeddingsCalculatorOVOptions]",
        "[ type.googleapis.com  /mediapipe.EmbeddingsCalculatorOVOptions ]",
    ],
)
def test_any_type_url_with_and_without_spaces(any_header: str) -> None:
    node = parse_node_text(
        f'calculator: "X" node_options: {{ {any_header} {{ models_path: "/m" pooling: MEAN }} }}'
    )
    options = extract_options(node, EmbeddingsCalculatorOVOptions, where="t")
    assert options is not None
    assert (options.models_path, options.pooling) == ("/m", EmbeddingsCalculatorOVOptions.MEAN)


def test_legacy_extension_options_parse() -> None:
    node = parse_node_text(
        """
        calculator: "EmbeddingsCalculatorOV"
        options {
          [mediapipe.EmbeddingsCalculatorOVOptions.ext] { models_path: "m" pooling: LAST truncate: true }
        }
        """
    )
    assert option_type_names(node) == ["mediapipe.EmbeddingsCalculatorOVOptions"]
    options = extract_options(node, EmbeddingsCalculatorOVOptions, where="t")
    assert options is not None
    assert (options.models_path, options.pooling, options.truncate) == ("m", 1, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# OVMS_GRAPH_QUEUE_MAX_SIZE: 0\n", 0),
        ("#OVMS_GRAPH_QUEUE_MAX_SIZE:12\n", 12),
        ("# a comment\n", None),
    ],
)
def test_queue_directive_values(text: str, expected: object) -> None:
    assert parse_graph_text(text + 'input_stream: "in"\n').queue_max_size == expected


def test_bad_queue_directive_names_line() -> None:
    with pytest.raises(ConfigError, match=r"^g\.pbtxt:2:1: OVMS_GRAPH_QUEUE_MAX_SIZE must be AUTO"):
        parse_graph_text('input_stream: "in"\n# OVMS_GRAPH_QUEUE_MAX_SIZE: lots\n', "g.pbtxt")


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "graph.pbtxt"
    path.write_text('input_stream: "in"\nnode {\n  calculator: "X"\n  input_stream "a"\n}\n')
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}:4:16: .*Expected \":\""):
        parse_graph_file(path)


def test_unknown_option_field_names_position() -> None:
    text = OVMS_NEW_GRAPH.replace("truncate: true,", "truncation: true,")
    with pytest.raises(
        ConfigError, match=r'^g:17:7: Message type "mediapipe.EmbeddingsCalculatorOVOptions" has no'
    ):
        parse_graph_text(text, "g")


def test_unknown_any_type_is_located() -> None:
    text = 'node {\n  calculator: "X"\n  node_options: { [type.googleapis.com / mediapipe.Nope]: {} }\n}\n'
    with pytest.raises(ConfigError, match=r"^g:3:19: unknown options type 'mediapipe.Nope'"):
        parse_graph_text(text, "g")


def test_missing_required_option_field_in_any_is_located() -> None:
    text = OVMS_NEW_GRAPH.replace('models_path: "./",', "")
    with pytest.raises(ConfigError, match=r"^g:12:5: .*missing required fields: models_path"):
        parse_graph_text(text, "g")


def test_missing_required_option_field_in_legacy_form() -> None:
    text = (
        'node { calculator: "X" options { [mediapipe.OpenVINOModelServerSessionCalculatorOptions.ext] {} } }'
    )
    with pytest.raises(ConfigError, match=r"missing required option field\(s\): .*servable_name"):
        parse_graph_text(text, "g")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read graph file"):
        parse_graph_file(tmp_path / "absent.pbtxt")


def test_node_snippet_with_or_without_wrapper() -> None:
    assert parse_node_text('node { calculator: "A" }').calculator == "A"
    assert parse_node_text('calculator: "A"').calculator == "A"
    with pytest.raises(ConfigError, match="exactly one node"):
        parse_node_text('node { calculator: "A" } node { calculator: "B" }')
