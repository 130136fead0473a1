"""`ValidatedGraph`: a parsed graph checked and put in order before anything is served.

`validate_graph` (blocking, pure CPU, no model I/O) checks, in this order:
features ovserve cannot run; node names; calculators known; each node's contract (tags,
`TAG:index:name` syntax, options type, required options; subgraphs expanded); every
stream produced exactly once (graph input streams count as producers) and every consumed
stream produced; graph output streams produced; side packets likewise; no cycles. The
first problem raises `ConfigError` naming the graph file and, where there is one, the node.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ovserve.errors import ConfigError
from ovserve.graph.expansion import expand_graph
from ovserve.graph.node_check import ValidatedNode, node_label
from ovserve.graph.parser import ParsedGraph, QueueSize
from ovserve.graph.ports import PortKind
from ovserve.graph.registry import CalculatorRegistry
from ovserve.graph.services import GraphServices
from ovserve.graph.streams import StreamRef, parse_stream_ref


@dataclass(frozen=True)
class ValidatedGraph:
    """A graph ready to load. Immutable; shared by every load of the same definition.

    Attributes:
        nodes: every calculator node after subgraph expansion, topologically sorted by
            streams (a run executes them in this order).
        load_order: the same nodes sorted by side-packet dependencies (`load` order).
        input_streams / output_streams: the graph's own ports (`REQUEST_PAYLOAD:input`).
        input_side_packets: side packets the loader must supply (graph `input_side_packet`).
    """

    path: Path
    base_path: Path
    nodes: tuple[ValidatedNode, ...]
    load_order: tuple[ValidatedNode, ...]
    input_streams: tuple[StreamRef, ...]
    output_streams: tuple[StreamRef, ...]
    input_side_packets: tuple[StreamRef, ...]
    queue_max_size: QueueSize | None


def validate_graph(
    parsed: ParsedGraph,
    *,
    registry: CalculatorRegistry,
    base_path: Path | None = None,
    services: GraphServices | None = None,
) -> ValidatedGraph:
    """Validate `parsed`; `base_path` defaults to the graph file's directory.

    Raises:
        ConfigError: the first problem found (see module doc).
    """
    where, config = parsed.path, parsed.config
    base = base_path if base_path is not None else where.parent
    unsupported = [f for f in ("packet_factory", "packet_generator", "status_handler") if getattr(config, f)]
    if unsupported:
        raise ConfigError(f"{where}: {', '.join(unsupported)} are not supported by ovserve")
    graph_in = _graph_refs(config.input_stream, "input_stream", where)
    graph_out = _graph_refs(config.output_stream, "output_stream", where)
    graph_side_in = _graph_refs(config.input_side_packet, "input_side_packet", where)
    if config.output_side_packet:
        raise ConfigError(f"{where}: graph output_side_packet is not supported by ovserve")
    for node in config.node:
        if any(info.back_edge for info in node.input_stream_info):
            raise ConfigError(f'{where}: node "{node.name or node.calculator}": back edges are not supported')
    nodes = expand_graph(config, registry=registry, where=where, base_path=base, services=services)
    streams = _producers(nodes, graph_in, PortKind.OUTPUT_STREAM, "stream", "input_stream", where)
    _check_consumed(nodes, streams, PortKind.INPUT_STREAM, "input stream", where)
    for ref in graph_out:
        if ref.name not in streams:
            raise ConfigError(f"{where}: graph output_stream {ref.name!r} is not produced by any node")
    packets = _producers(
        nodes, graph_side_in, PortKind.OUTPUT_SIDE_PACKET, "side packet", "input_side_packet", where
    )
    _check_consumed(nodes, packets, PortKind.INPUT_SIDE_PACKET, "input side packet", where)
    ordered = _toposort(nodes, PortKind.INPUT_STREAM, streams, "streams", where)
    load_order = _toposort(nodes, PortKind.INPUT_SIDE_PACKET, packets, "side packets", where)
    return ValidatedGraph(
        path=where,
        base_path=base,
        nodes=tuple(ordered),
        load_order=tuple(load_order),
        input_streams=graph_in,
        output_streams=graph_out,
        input_side_packets=graph_side_in,
        queue_max_size=parsed.queue_max_size,
    )


def _graph_refs(texts: Iterable[str], field: str, where: Path) -> tuple[StreamRef, ...]:
    refs: list[StreamRef] = []
    for text in texts:
        try:
            refs.append(parse_stream_ref(text))
        except ValueError as exc:
            raise ConfigError(f"{where}: bad graph {field} {exc}") from None
    names = [r.name for r in refs]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{where}: graph {field} {name!r} is listed twice")
    return tuple(refs)


def _producers(
    nodes: Sequence[ValidatedNode],
    graph_refs: Iterable[StreamRef],
    kind: PortKind,
    what: str,
    graph_field: str,
    where: Path,
) -> dict[str, str]:
    """Name → producer description; each name produced exactly once."""
    producers = {ref.name: f"graph {graph_field}" for ref in graph_refs}
    for node in nodes:
        for ref in node.refs(kind):
            mine = f'node "{node.name}"'
            if ref.name in producers:
                raise ConfigError(
                    f"{where}: {what} {ref.name!r} is produced by both {producers[ref.name]} and {mine}"
                )
            producers[ref.name] = mine
    return producers


def _check_consumed(
    nodes: Sequence[ValidatedNode], producers: dict[str, str], kind: PortKind, what: str, where: Path
) -> None:
    for node in nodes:
        for ref in node.refs(kind):
            if ref.name not in producers:
                raise ConfigError(
                    f"{node_label(where, node.name, node.calculator)}: {what} {ref.name!r} "
                    f"is not produced by any node or graph {kind.value}"
                )


def _toposort(
    nodes: Sequence[ValidatedNode], kind: PortKind, producers: dict[str, str], what: str, where: Path
) -> list[ValidatedNode]:
    """Kahn's algorithm, stable in file order; a leftover means a cycle."""
    produced_by = {
        ref.name: node.name for node in nodes for ref in node.refs(_OUTPUT_OF[kind]) if ref.name in producers
    }
    deps = {n.name: {produced_by[r.name] for r in n.refs(kind) if r.name in produced_by} for n in nodes}
    done: set[str] = set()
    ordered: list[ValidatedNode] = []
    pending = list(nodes)
    while pending:
        ready = [n for n in pending if deps[n.name] <= done]
        if not ready:
            cycle = ", ".join(f'"{n.name}"' for n in pending)
            raise ConfigError(f"{where}: the graph has a cycle through {what} between nodes {cycle}")
        for n in ready:
            done.add(n.name)
            ordered.append(n)
        pending = [n for n in pending if n.name not in done]
    return ordered


_OUTPUT_OF = {
    PortKind.INPUT_STREAM: PortKind.OUTPUT_STREAM,
    PortKind.INPUT_SIDE_PACKET: PortKind.OUTPUT_SIDE_PACKET,
}
