"""What a graph node needs at run time: its wiring, fixed at load, and the error a failed run gets.

`NodeWiring` is made once per node when a graph loads, so that a run only looks packets up
(`ovserve.graph.runner.Graph`), not ports, keys and side packets. `node_failure` is the one
place that names a node's failure the way OVMS does (`Calculator::Process() for node ...`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ovserve.errors import InternalError, OvserveError
from ovserve.graph.context import NodeFrame
from ovserve.graph.node_check import ValidatedNode
from ovserve.graph.node_loading import renamed_error
from ovserve.graph.ports import PortKind

# Node failures are logged under the runner's name, as before this module was split from it,
# so that a log configuration that filters them keeps working.
log = logging.getLogger("ovserve.graph.runner")


@dataclass(frozen=True, slots=True)
class NodeWiring:
    """What a node's context needs from the graph, fixed at load: made once per node so that a
    run only looks packets up (`Graph._context`), not ports, keys and side packets."""

    inputs: tuple[tuple[str, str], ...]
    """(tag key, stream name) of each input stream."""
    outputs: tuple[tuple[str, str], ...]
    frame: NodeFrame
    """What every run's `CalculatorContext` of the node shares: name, output tags, side
    packets by tag (read-only), options, node state."""

    @property
    def node_state(self) -> object:
        return self.frame.node_state

    @classmethod
    def of(
        cls, node: ValidatedNode, side_packets: Mapping[str, object], node_state: Mapping[str, object]
    ) -> NodeWiring:
        outputs = tuple((ref.key, ref.name) for ref in node.refs(PortKind.OUTPUT_STREAM))
        frame = NodeFrame(
            node_name=node.name,
            output_tags=frozenset(key for key, _ in outputs),
            side_packets=MappingProxyType(
                {ref.key: side_packets[ref.name] for ref in node.refs(PortKind.INPUT_SIDE_PACKET)}
            ),
            options=node.options,
            options_type=node.options_type,
            node_state=node_state.get(node.name),
        )
        return cls(
            inputs=tuple((ref.key, ref.name) for ref in node.refs(PortKind.INPUT_STREAM)),
            outputs=outputs,
            frame=frame,
        )


def node_failure(graph: str, node: ValidatedNode, exc: Exception) -> OvserveError:
    """What a run of graph `graph` gets when `node` raised `exc` for it (`__cause__` is `exc`).

    An `OvserveError` keeps its class and code under the message
    `Calculator::Process() for node "<node>" failed: <message>` (logged at debug: the client
    gets it); anything else is a bug, logged with its traceback, and becomes InternalError.
    """
    if isinstance(exc, OvserveError):
        log.debug("graph %r node %r (%s) failed: %s", graph, node.name, node.origin, exc)
        error = renamed_error(exc, f'Calculator::Process() for node "{node.origin}" failed: {exc.message}')
    else:
        log.error(
            "graph %r: node %r (%s, in %r) raised",
            graph,
            node.name,
            node.calculator,
            node.origin,
            exc_info=exc,
        )
        error = InternalError(f'Calculator::Process() for node "{node.origin}" failed: internal error')
    error.__cause__ = exc
    return error
