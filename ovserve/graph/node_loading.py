"""Graph load: run every node's `Calculator.load` once, producing side packets and node state.

Runs on the thread that loads the graph (blocking: models are read and compiled here), in
side-packet dependency order. A failure releases what earlier nodes registered with
`on_close` and raises: `OvserveError`s keep their class and code with the node named in
the message; anything else becomes `InternalError` (logged with its traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ovserve.errors import ConfigError, InternalError, OvserveError
from ovserve.graph.context import GraphLoadContext
from ovserve.graph.node_check import ValidatedNode, node_label
from ovserve.graph.ports import PortKind
from ovserve.graph.resources import ModelResolver
from ovserve.graph.services import GraphServices
from ovserve.graph.validation import ValidatedGraph

if TYPE_CHECKING:
    import openvino

log = logging.getLogger(__name__)

CoreSource = Callable[[], "openvino.Core"]


def default_core() -> openvino.Core:
    """The process-wide Core with the tokenizer extension (the server passes its own instead)."""
    from ovserve.runtime import shared_core

    return shared_core()


@dataclass
class LoadedGraph:
    """What loading produced: side packets by name, node state by node, and releases."""

    side_packets: dict[str, object] = field(default_factory=dict)
    node_state: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def release(self) -> None:
        """Run the registered releases, newest first; errors are logged, not raised."""
        while self.closers:
            closer = self.closers.pop()
            try:
                closer()
            except Exception:
                log.exception("releasing a graph resource failed")


def load_nodes(
    graph: ValidatedGraph,
    *,
    resolver: ModelResolver,
    core: CoreSource,
    side_packets: Mapping[str, object],
    services: GraphServices,
) -> LoadedGraph:
    """Load every node of `graph` (see module doc). Blocking."""
    loaded = LoadedGraph()
    for ref in graph.input_side_packets:
        if ref.name not in side_packets:
            loaded.release()
            raise ConfigError(f"{graph.path}: graph input_side_packet {ref.name!r} was not supplied")
        loaded.side_packets[ref.name] = side_packets[ref.name]
    try:
        for node in graph.load_order:
            _load_node(graph, node, loaded, resolver, core, services)
    except BaseException:
        loaded.release()
        raise
    return loaded


def _load_node(
    graph: ValidatedGraph,
    node: ValidatedNode,
    loaded: LoadedGraph,
    resolver: ModelResolver,
    core: CoreSource,
    services: GraphServices,
) -> None:
    label = node_label(graph.path, node.name, node.calculator)
    lc = GraphLoadContext(
        node_name=node.name,
        graph_path=graph.path,
        base_path=graph.base_path,
        options=node.options,
        options_type=node.options_type,
        resolver=resolver,
        core=core,
        side_packets={
            ref.key: loaded.side_packets[ref.name] for ref in node.refs(PortKind.INPUT_SIDE_PACKET)
        },
        on_close=loaded.closers.append,
        services=services,
        output_streams=frozenset(ref.key for ref in node.refs(PortKind.OUTPUT_STREAM)),
    )
    try:
        node.cls.load(lc)
    except OvserveError as exc:
        raise renamed_error(exc, f"{label}: {exc.message}") from exc
    except Exception as exc:
        log.exception("%s: load failed", label)
        raise InternalError(f"{label}: load failed: {type(exc).__name__}: {exc}") from exc
    outputs = node.refs(PortKind.OUTPUT_SIDE_PACKET)
    declared = {ref.key for ref in outputs}
    extra = set(lc.output_side_packets) - declared
    if extra:
        raise InternalError(f"{label}: load set undeclared output side packets {sorted(extra)}")
    for ref in outputs:
        if ref.key not in lc.output_side_packets:
            raise InternalError(f"{label}: load did not set output side packet {ref.key!r}")
        loaded.side_packets[ref.name] = lc.output_side_packets[ref.key]
    loaded.node_state[node.name] = lc.node_state


def renamed_error(exc: OvserveError, message: str) -> OvserveError:
    """An error of the same class and code with a new message (the original is the cause)."""
    try:
        return type(exc)(message, code=exc.code)
    except TypeError:  # a subclass with another constructor: keep the code at least
        return OvserveError(message, code=exc.code)
