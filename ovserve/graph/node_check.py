"""Checking one node against its calculator's contract (tags, indices, options type).

Runs at graph load for every node as written and for every node a subgraph expands into.
Errors are `ConfigError`s whose message starts with the graph file and the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from ovserve.errors import ConfigError, InternalError, OvserveError
from ovserve.graph.calculator import BatchCalculator, Calculator, Subgraph
from ovserve.graph.contract import CalculatorContract
from ovserve.graph.options import extract_options, option_type_names
from ovserve.graph.pb import NodeConfig
from ovserve.graph.ports import Port, PortKind
from ovserve.graph.streams import StreamRef, parse_stream_ref


@dataclass(frozen=True)
class ValidatedNode:
    """One node that passed its contract check.

    Attributes:
        name: unique name in the (expanded) graph, used in logs.
        origin: the node's name in the user's graph file (differs from `name` for nodes a
            subgraph produced); run-time errors name this one.
        ports: parsed port strings per kind, in pbtxt order.
        options: the node's options of the declared type (None: none given).
    """

    name: str
    origin: str
    calculator: str
    cls: type[Calculator]
    config: NodeConfig
    ports: dict[PortKind, tuple[StreamRef, ...]]
    options: Message | None
    options_type: type[Message] | None
    batch_max_runs: int = 0
    """Most runs per `process_batch` call (`CalculatorContract.process_in_batches`); 0: per run."""
    batch_waits: bool = False
    """A batch call may block on a shared resource (`process_in_batches(waits=True)`)."""

    @property
    def runs_per_request(self) -> bool:
        """Nodes with no streams only make side packets at load; they are not run."""
        return bool(self.ports[PortKind.INPUT_STREAM] or self.ports[PortKind.OUTPUT_STREAM])

    def refs(self, kind: PortKind) -> tuple[StreamRef, ...]:
        return self.ports[kind]


def node_label(where: Path, name: str, calculator: str) -> str:
    """`<file>: node "<name>" (<Calculator>)` — the prefix of every per-node message."""
    return f'{where}: node "{name}" ({calculator})'


@dataclass(frozen=True)
class CheckedNode:
    """What `check_node` found: parsed ports, typed options, and the batch declaration."""

    ports: dict[PortKind, tuple[StreamRef, ...]]
    options: Message | None
    options_type: type[Message] | None
    batch_max_runs: int
    batch_waits: bool


def check_node(
    node: NodeConfig, cls: type[Calculator] | type[Subgraph], *, name: str, where: Path
) -> CheckedNode:
    """Check `node` against `cls.get_contract`.

    Raises:
        ConfigError: a port string, tag, index or options type does not match the contract.
        InternalError: a calculator that is no `BatchCalculator` declared `process_in_batches`.
    """
    label = node_label(where, name, node.calculator)
    cc = CalculatorContract(node, name)
    try:
        cls.get_contract(cc)
    except OvserveError as exc:
        raise ConfigError(f"{label}: {exc.message}") from exc
    if cc.batch_max_runs and not issubclass(cls, BatchCalculator):
        raise InternalError(f"{label}: declares process_in_batches but is not a BatchCalculator")
    ports = {kind: _check_ports(node, cc.ports(kind), kind, label) for kind in PortKind}
    options = _check_options(node, cc, label)
    return CheckedNode(ports, options, cc.options_type, cc.batch_max_runs, cc.batch_waits)


def _check_ports(
    node: NodeConfig, declared: dict[str, Port[Any]], kind: PortKind, label: str
) -> tuple[StreamRef, ...]:
    refs: list[StreamRef] = []
    seen: set[tuple[str, int]] = set()
    accepts = ", ".join(repr(t) for t in sorted(declared)) or "none"
    for text in getattr(node, kind.value):
        try:
            ref = parse_stream_ref(text)
        except ValueError as exc:
            raise ConfigError(f"{label}: bad {kind.value} {exc}") from None
        port = declared.get(ref.tag)
        if port is None:
            raise ConfigError(f"{label}: {kind.value} tag {ref.tag!r} is not accepted (accepts: {accepts})")
        if ref.index > 0 and not port.multiple:
            raise ConfigError(f"{label}: {kind.value} {text!r}: tag {ref.tag!r} takes no index")
        if (ref.tag, ref.index) in seen:
            raise ConfigError(f"{label}: {kind.value} {ref.tag}:{ref.index} is connected twice")
        seen.add((ref.tag, ref.index))
        refs.append(ref)
    for tag, port in sorted(declared.items()):
        if not port.optional and (tag, 0) not in seen:
            raise ConfigError(f"{label}: missing {kind.value} with tag {tag!r} (required)")
    return tuple(refs)


def _check_options(node: NodeConfig, cc: CalculatorContract, label: str) -> Message | None:
    given = option_type_names(node)
    expected = cc.options_type
    if expected is None:
        if given:
            raise ConfigError(f"{label}: takes no options, got {', '.join(given)}")
        return None
    full_name = expected.DESCRIPTOR.full_name
    wrong = [g for g in given if g != full_name]
    if wrong:
        raise ConfigError(f"{label}: wrong options type {', '.join(wrong)}; expected {full_name}")
    options = extract_options(node, expected, where=label)
    if options is None and cc.options_required:
        raise ConfigError(f"{label}: options {full_name} are required")
    return options
