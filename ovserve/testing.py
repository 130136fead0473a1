"""Test helpers for calculator authors: run one node from a pbtxt snippet.

    runner = CalculatorRunner('''
        calculator: "NormalizeCalculator"
        input_stream: "EMBEDDINGS:in"
        output_stream: "EMBEDDINGS:out"
    ''')
    out = runner.run(EMBEDDINGS=np.ones((1, 4), np.float32))
    assert out["EMBEDDINGS"].shape == (1, 4)

The node goes through the same path a served graph does: parse (protobuf text format),
contract check, subgraph expansion, `load` (side packets), and one run with fresh
instances. Each input port becomes a graph input stream and each output port a graph
output stream; packets are passed and returned keyed by *tag* (`port_key` for indices).
Input side packets the node declares but no other node produces are supplied by
`side_packets` (keyed by the side packet's tag).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ovserve.errors import ConfigError
from ovserve.graph.parser import ParsedGraph, parse_node_text
from ovserve.graph.pb import CalculatorGraphConfig
from ovserve.graph.registry import CalculatorRegistry, default_registry
from ovserve.graph.resources import ModelResolver, NoModels
from ovserve.graph.runner import Graph
from ovserve.graph.streams import parse_stream_ref
from ovserve.graph.validation import validate_graph

if TYPE_CHECKING:
    import openvino

__all__ = ["CalculatorRunner"]


class CalculatorRunner:
    """Runs one node (MediaPipe's `CalculatorRunner`, in Python). Blocking; not for servers.

    Args:
        node_pbtxt: the node, with or without the surrounding `node { }`.
        side_packets: input side packets by tag (e.g. `{"MODEL": loaded_model}`).
        registry: where the calculator is looked up (default: `default_registry`).
        resolver, core: as for `load_graph` (models by name; the OpenVINO core).
        base_path: directory relative option paths resolve against (default: cwd).

    Raises:
        ConfigError: the snippet does not parse or does not satisfy the contract.
        OvserveError: the node's `load` failed.
    """

    def __init__(
        self,
        node_pbtxt: str,
        *,
        side_packets: Mapping[str, object] | None = None,
        registry: CalculatorRegistry | None = None,
        resolver: ModelResolver | None = None,
        core: openvino.Core | None = None,
        base_path: Path | None = None,
    ) -> None:
        node = self._node = parse_node_text(node_pbtxt)
        config = CalculatorGraphConfig()
        config.node.append(node)
        # Graph ports get the node's stream names; the mapping back to tags is kept here.
        self._in = {ref.name: ref.key for ref in map(parse_stream_ref, node.input_stream)}
        self._out = {ref.name: ref.key for ref in map(parse_stream_ref, node.output_stream)}
        config.input_stream.extend(node.input_stream)
        config.output_stream.extend(node.output_stream)
        sides = {ref.name: ref.key for ref in map(parse_stream_ref, node.input_side_packet)}
        config.input_side_packet.extend(node.input_side_packet)
        supplied = dict(side_packets or {})
        missing = sorted(set(sides.values()) - set(supplied))
        if missing:
            raise ConfigError(f"<node>: input side packet(s) {missing} need a value in side_packets")
        where = Path("<node>")
        validated = validate_graph(
            ParsedGraph(config=config, path=where, queue_max_size=None),
            registry=registry or default_registry,
            base_path=base_path or Path.cwd(),
        )
        self.graph = Graph(
            validated,
            name=node.name or node.calculator,
            resolver=resolver or NoModels(),
            core=core,
            side_packets={name: supplied[key] for name, key in sides.items()},
        )

    @property
    def output_side_packets(self) -> dict[str, object]:
        """The side packets the node's `load` produced, by tag."""
        refs = map(parse_stream_ref, self._node.output_side_packet)
        return {ref.key: self.graph.side_packet(ref.name) for ref in refs}

    def run(self, inputs: Mapping[str, object] | None = None, /, **by_tag: object) -> dict[str, object]:
        """Run the node once with packets by tag; return output packets by tag.

        Raises:
            OvserveError: as `Graph.run` (the calculator's error, node named).
        """
        packets = {**(inputs or {}), **by_tag}
        by_name = {name: packets[key] for name, key in self._in.items() if key in packets}
        result = self.graph.run_sync(by_name)
        return {self._out[name]: value for name, value in result.items()}

    def close(self) -> None:
        self.graph.close()

    def __enter__(self) -> CalculatorRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
