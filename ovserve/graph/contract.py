"""`CalculatorContract`: what one node's calculator declares before the graph is served.

The framework creates one contract per node while validating a graph and passes it to
`Calculator.get_contract` (or `Subgraph.get_contract`). The calculator declares its ports
and its options type; validation then checks the node's pbtxt against the declaration.
Runs once per node per graph load, on the loading thread.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from ovserve.errors import InternalError
from ovserve.graph.pb import NodeConfig
from ovserve.graph.ports import Port, PortKind


class CalculatorContract:
    """Declarations of one node's calculator, filled by its `get_contract`.

    Attributes:
        node: the node's config as written (read-only by convention). A calculator may
            look at it to make its contract depend on the node (MediaPipe allows the same).
        node_name: the node's name, for messages.
    """

    def __init__(self, node: NodeConfig, node_name: str) -> None:
        self.node = node
        self.node_name = node_name
        self._ports: dict[PortKind, dict[str, Port[Any]]] = {kind: {} for kind in PortKind}
        self._options_type: type[Message] | None = None
        self._options_required = False
        self._batch_max_runs = 0
        self._batch_waits = False

    def declare(self, *ports: Port[Any]) -> None:
        """Declare ports (`Input`, `Output`, `InputSidePacket`, `OutputSidePacket`).

        Raises:
            InternalError: the same tag is declared twice for one kind (a calculator bug).
        """
        for port in ports:
            table = self._ports[port.kind]
            if port.tag in table:
                raise InternalError(f"{self.node_name}: {port.kind.value} tag {port.tag!r} declared twice")
            table[port.tag] = port

    def set_options(self, msg_type: type[Message], *, required: bool = False) -> None:
        """Declare the options message the node takes (at most one type per calculator).

        With `required=True` a node without options of that type is rejected at load;
        otherwise `ctx.options(msg_type)` returns the defaults when the node has none.
        """
        self._options_type = msg_type
        self._options_required = required

    def process_in_batches(self, *, max_runs: int = 64, waits: bool = False) -> None:
        """Let the engine run this node once for up to `max_runs` runs that wait at it together.

        Only a `BatchCalculator` may declare it (validation refuses others): the engine then
        calls its `process_batch` with the contexts of concurrent runs, and carries those runs on
        together through the batch-capable nodes that follow (see `ovserve.graph.batch_runs`).

        `waits`: a call may block on something shared beyond the node (e.g. a model's infer
        requests, busy with an earlier batch). Runs then meet inside the node, not at its gate,
        and a graph that takes requests at its entry lets the next batch gather while this one
        is inside, up to as many batches as the node's state says it can work on at once
        (`ovserve.graph.entry.ConcurrentBatches`).

        Raises:
            InternalError: `max_runs` < 1 (a calculator bug).
        """
        if max_runs < 1:
            raise InternalError(f"{self.node_name}: process_in_batches(max_runs={max_runs}) must be >= 1")
        self._batch_max_runs = max_runs
        self._batch_waits = waits

    @property
    def batch_max_runs(self) -> int:
        """Most runs per `process_batch` call; 0 when the node runs per run."""
        return self._batch_max_runs

    @property
    def batch_waits(self) -> bool:
        """A batch call may block on a shared resource (`process_in_batches(waits=True)`)."""
        return self._batch_waits

    def ports(self, kind: PortKind) -> dict[str, Port[Any]]:
        """Declared ports of one kind, by tag."""
        return dict(self._ports[kind])

    @property
    def options_type(self) -> type[Message] | None:
        return self._options_type

    @property
    def options_required(self) -> bool:
        return self._options_required
