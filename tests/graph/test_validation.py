"""Validation: a table of broken graphs, each with the message it must produce; valid shapes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ovserve.errors import ConfigError, NotFound
from ovserve.graph import load_graph, parse_graph_text, validate_graph
from tests.graph.toy_calculators import TOYS

OK_HEAD = 'input_stream: "TEXT:in"\noutput_stream: "TEXT:out"\n'
OVMS_HEAD = (
    'input_stream: "REQUEST_PAYLOAD:input"\noutput_stream: "RESPONSE_PAYLOAD:output"\n'
    'node { name: "E" calculator: "EmbeddingsCalculatorOV" input_stream: "REQUEST_PAYLOAD:input"\n'
    'output_stream: "RESPONSE_PAYLOAD:output" node_options: {\n'
    "[type.googleapis.com / mediapipe.EmbeddingsCalculatorOVOptions]:"
)


def upper(inp: str, out: str, extra: str = "") -> str:
    ports = f'input_stream: "TEXT:{inp}" output_stream: "TEXT:{out}"'
    return f'node {{ calculator: "UpperCalculator" {ports} {extra}}}\n'


@dataclass(frozen=True)
class Broken:
    id: str
    text: str
    message: str  # regex searched in the ConfigError message


BROKEN = [
    Broken("syntax error", OK_HEAD + "node { calculator: }", r"^g\.pbtxt:3:20: .*Expected string"),
    Broken(
        "unknown calculator",
        OK_HEAD + 'node { calculator: "Nope" input_stream: "TEXT:in" output_stream: "TEXT:out" }',
        r'node "Nope" \(Nope\): Calculator \'Nope\' is not registered; known calculators: CheckCalculator, '
        r"EmbeddingsCalculatorOV, ModelDirCalculator, PayloadCalculator, SuffixCalculator, UpperCalculator$",
    ),
    Broken(
        "dangling stream",
        OK_HEAD + upper("in", "mid") + upper("nowhere", "out"),
        r"node \"UpperCalculator_2\" \(UpperCalculator\): input stream 'nowhere' is not produced by any node",
    ),
    Broken(
        "doubly produced stream",
        OK_HEAD + upper("in", "out") + upper("in", "out"),
        r"stream 'out' is produced by both node \"UpperCalculator_1\" and node \"UpperCalculator_2\"",
    ),
    Broken(
        "stream produced by a node and the graph input",
        OK_HEAD + upper("in", "out") + upper("out", "in"),
        r"stream 'in' is produced by both graph input_stream and node \"UpperCalculator_2\"",
    ),
    Broken(
        "cycle",
        OK_HEAD + upper("in", "out") + upper("b", "a", 'name: "first" ') + upper("a", "b", 'name: "second" '),
        r'the graph has a cycle through streams between nodes "first", "second"',
    ),
    Broken(
        "duplicate node name",
        OK_HEAD + upper("in", "mid", 'name: "n" ') + upper("mid", "out", 'name: "n" '),
        r'duplicate node name "n"',
    ),
    Broken(
        "bad tag (lower case)",
        OK_HEAD + 'node { calculator: "UpperCalculator" input_stream: "text:in" output_stream: "TEXT:out" }',
        r"bad input_stream 'text:in': tag 'text' must be upper case",
    ),
    Broken(
        "tag not in the contract",
        OK_HEAD + 'node { calculator: "UpperCalculator" input_stream: "TEXTS:in" output_stream: "TEXT:out" }',
        r"input_stream tag 'TEXTS' is not accepted \(accepts: 'TEXT'\)",
    ),
    Broken(
        "bad stream name",
        OK_HEAD + 'node { calculator: "UpperCalculator" input_stream: "TEXT:In" output_stream: "TEXT:out" }',
        r"name 'In' must be lower case",
    ),
    Broken(
        "index on a single port",
        OK_HEAD
        + 'node { calculator: "UpperCalculator" input_stream: "TEXT:1:in" output_stream: "TEXT:out" }',
        r"tag 'TEXT' takes no index",
    ),
    Broken(
        "missing required port",
        OK_HEAD + 'node { calculator: "UpperCalculator" output_stream: "TEXT:out" }',
        r"node \"UpperCalculator\" \(UpperCalculator\): missing input_stream with tag 'TEXT' \(required\)",
    ),
    Broken(
        "wrong options type",
        OK_HEAD
        + upper(
            "in",
            "out",
            "node_options: { [type.googleapis.com/google.protobuf.StringValue]: { value: 'x' } } ",
        ),
        r"node \"UpperCalculator\" \(UpperCalculator\): takes no options, got google.protobuf.StringValue",
    ),
    Broken(
        "options of another calculator",
        OK_HEAD + 'node { calculator: "SuffixCalculator" input_stream: "TEXT:in" output_stream: "TEXT:out" '
        "node_options: { [type.googleapis.com/mediapipe.EmbeddingsCalculatorOptions]: {} } }",
        r"wrong options type mediapipe.EmbeddingsCalculatorOptions; expected google.protobuf.StringValue",
    ),
    Broken(
        "required options missing",
        OK_HEAD + 'node { calculator: "SuffixCalculator" input_stream: "TEXT:in" output_stream: "TEXT:out" }',
        r"options google.protobuf.StringValue are required",
    ),
    Broken(
        "unknown options field",
        OK_HEAD + 'node { calculator: "SuffixCalculator" input_stream: "TEXT:in" output_stream: "TEXT:out"\n'
        "  node_options: { [type.googleapis.com/google.protobuf.StringValue]: { valu: 'x' } } }",
        r'^g\.pbtxt:4:72: Message type "google.protobuf.StringValue" has no field named "valu"',
    ),
    Broken(
        "missing side packet",
        OK_HEAD + upper("in", "out", 'input_side_packet: "PREFIX:prefix" '),
        r"input side packet 'prefix' is not produced by any node or graph input_side_packet",
    ),
    Broken(
        "bad pooling value",
        OVMS_HEAD + " { models_path: './', pooling: MAX } } }",
        r"^g\.pbtxt:5:96: .*Enum type \"mediapipe.EmbeddingsCalculatorOVOptions.Pooling\" "
        r"has no value named MAX",
    ),
    Broken(
        "pooling the subgraph rejects",
        OVMS_HEAD + " { models_path: './', pooling: LAST } } }",
        r'node "E" \(EmbeddingsCalculatorOV\): LAST pooling is not supported by this toy',
    ),
    Broken(
        "graph output not produced",
        OK_HEAD + upper("in", "other"),
        r"graph output_stream 'out' is not produced by any node",
    ),
    Broken(
        "packet generator",
        OK_HEAD + upper("in", "out") + 'packet_generator { packet_generator: "G" }',
        r"packet_generator are not supported by ovserve",
    ),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c.id for c in BROKEN])
def test_broken_graph_is_rejected_with_message(case: Broken) -> None:
    with pytest.raises(ConfigError, match=case.message) as info:
        validate_graph(parse_graph_text(case.text, "g.pbtxt"), registry=TOYS)
    assert info.value.message.startswith("g.pbtxt")


def test_at_least_twelve_broken_graphs() -> None:
    assert len(BROKEN) >= 12


def write_ovms_graph(root: Path, models_path: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    graph = root / "graph.pbtxt"
    graph.write_text(
        'input_stream: "REQUEST_PAYLOAD:input"\noutput_stream: "RESPONSE_PAYLOAD:output"\n'
        'node { name: "EmbeddingsExecutor" calculator: "EmbeddingsCalculatorOV"\n'
        'input_side_packet: "EMBEDDINGS_NODE_RESOURCES:embeddings_servable"\n'
        'input_stream: "REQUEST_PAYLOAD:input" output_stream: "RESPONSE_PAYLOAD:output"\n'
        "node_options: { [type.googleapis.com / mediapipe.EmbeddingsCalculatorOVOptions]: {\n"
        f"models_path: {models_path!r}, normalize_embeddings: true, pooling: CLS" + " } } }\n"
    )
    return graph


@dataclass(frozen=True)
class Source:
    name: str
    graph_path: Path
    base_path: Path


def test_missing_model_files_fail_at_load_naming_node_and_file(tmp_path: Path) -> None:
    graph = write_ovms_graph(tmp_path / "emb", "./model")
    with pytest.raises(NotFound) as info:
        load_graph(Source("emb", graph, graph.parent), registry=TOYS)
    message = info.value.message
    assert message.startswith(f'{graph}: node "EmbeddingsExecutor/ModelDirCalculator" (ModelDirCalculator): ')
    assert message.endswith(f"model file {tmp_path}/emb/model/openvino_model.xml does not exist")


def test_unnamed_nodes_get_mediapipe_names() -> None:
    text = OK_HEAD + upper("in", "mid") + upper("mid", "out", 'name: "UpperCalculator_2x" ')
    graph = validate_graph(parse_graph_text(text, "g"), registry=TOYS)
    assert [n.name for n in graph.nodes] == ["UpperCalculator", "UpperCalculator_2x"]
    text = OK_HEAD + upper("in", "a") + upper("a", "b") + upper("b", "out")
    graph = validate_graph(parse_graph_text(text, "g"), registry=TOYS)
    assert [n.name for n in graph.nodes] == ["UpperCalculator_1", "UpperCalculator_2", "UpperCalculator_3"]


def test_nodes_are_sorted_topologically() -> None:
    text = OK_HEAD + upper("mid", "out", 'name: "second" ') + upper("in", "mid", 'name: "first" ')
    graph = validate_graph(parse_graph_text(text, "g"), registry=TOYS)
    assert [n.name for n in graph.nodes] == ["first", "second"]


def test_subgraph_expands_and_consumes_no_ovms_side_packet(tmp_path: Path) -> None:
    graph_path = write_ovms_graph(tmp_path, "./")
    graph = validate_graph(parse_graph_text(graph_path.read_text(), graph_path), registry=TOYS)
    assert [(n.name, n.origin) for n in graph.nodes] == [
        ("EmbeddingsExecutor/ModelDirCalculator", "EmbeddingsExecutor"),
        ("EmbeddingsExecutor/PayloadCalculator", "EmbeddingsExecutor"),
    ]
    assert graph.load_order[0].name == "EmbeddingsExecutor/ModelDirCalculator"
    assert not graph.nodes[0].runs_per_request
