"""The three contexts a calculator sees: at expansion, at graph load, and per run.

* `ExpandContext` — `Subgraph.expand`, once per graph load, while the graph is validated.
* `GraphLoadContext` — `Calculator.load`, once per node per graph load, on the loading
  thread, in side-packet dependency order. Heavy resources are created here.
* `CalculatorContext` — `open` / `process` / `close` of one run, on an ovserve worker
  thread. One context per node per run; never shared between runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from google.protobuf.message import Message

from ovserve.errors import InternalError
from ovserve.graph.ports import Input, InputSidePacket, Output, Port
from ovserve.graph.request_scope import RequestScope
from ovserve.graph.resources import ModelResolver
from ovserve.graph.services import GraphService, GraphServices

if TYPE_CHECKING:
    import openvino

T = TypeVar("T")
M = TypeVar("M", bound=Message)


class _OptionsMixin:
    """`options(MsgType)` over the options found at validation (shared by all contexts)."""

    __slots__ = ()

    node_name: str
    _options: Message | None
    _options_type: type[Message] | None

    def options(self, msg_type: type[M]) -> M:
        """The node's options as a fresh `msg_type` (defaults when the node gives none).

        Raises:
            InternalError: `msg_type` is not the type the calculator declared (a bug).
        """
        if self._options_type is not msg_type:
            declared = self._options_type.__name__ if self._options_type else "none"
            raise InternalError(f"{self.node_name}: options {msg_type.__name__} read, {declared} declared")
        msg = msg_type()
        if self._options is not None:
            msg.MergeFrom(self._options)  # type: ignore[arg-type]  # same type, checked above
        return msg


class ExpandContext(_OptionsMixin):
    """What `Subgraph.expand` may use: the node's options, paths and fresh names.

    Attributes:
        node_name: name of the node being expanded (unique in the graph).
        graph_path: the graph.pbtxt file (for messages).
        base_path: directory relative paths in options resolve against.
    """

    def __init__(
        self,
        *,
        node_name: str,
        graph_path: Path,
        base_path: Path,
        options: Message | None,
        options_type: type[Message] | None,
        taken_names: set[str],
        services: GraphServices | None = None,
    ) -> None:
        self.node_name = node_name
        self.graph_path = graph_path
        self.base_path = base_path
        self._options = options
        self._options_type = options_type
        self._taken = taken_names
        self._services = services or GraphServices()

    def service(self, key: GraphService[T]) -> T:
        """The server's value of graph service `key`, or its default (`ovserve.graph.services`)."""
        return self._services.get(key)

    def unique_name(self, hint: str) -> str:
        """A stream or side-packet name not used anywhere in the graph, derived from `hint`."""
        base = "".join(c if c.isalnum() else "_" for c in f"{self.node_name}__{hint}".lower())
        name, i = base, 1
        while name in self._taken:
            i += 1
            name = f"{base}_{i}"
        self._taken.add(name)
        return name


class GraphLoadContext(_OptionsMixin):
    """What `Calculator.load` may use; valid only during that call.

    Attributes:
        node_name, graph_path, base_path: as in `ExpandContext`.
        resolver: the server's models (`config.json` / `subconfig.json`).
        side_packets: the node's input side packets by tag (`port_key` for indices > 0).
        output_streams: the keys (`port_key`) of the node's connected output streams, for a
            calculator whose optional outputs change what it computes.
        output_side_packets: where `load` stores the node's output side packets by tag;
            each declared output side packet must be set before `load` returns.
        node_state: any object `load` wants every run of this node to get as
            `ctx.node_state` (shared by concurrent runs: make it immutable or thread-safe).
    """

    def __init__(
        self,
        *,
        node_name: str,
        graph_path: Path,
        base_path: Path,
        options: Message | None,
        options_type: type[Message] | None,
        resolver: ModelResolver,
        core: Callable[[], openvino.Core],
        side_packets: Mapping[str, object],
        on_close: Callable[[Callable[[], None]], None],
        services: GraphServices | None = None,
        output_streams: frozenset[str] = frozenset(),
    ) -> None:
        self.node_name = node_name
        self.graph_path = graph_path
        self.base_path = base_path
        self._options = options
        self._options_type = options_type
        self.resolver = resolver
        self._core = core
        self.side_packets = side_packets
        self.output_streams = output_streams
        self.output_side_packets: dict[str, object] = {}
        self.node_state: Any = None
        self._on_close = on_close
        self._services = services or GraphServices()

    @functools.cached_property
    def core(self) -> openvino.Core:
        """The process-wide `openvino.Core` (tokenizers extension loaded); shared, do not configure it."""
        return self._core()

    def resolve_path(self, path: str | Path) -> Path:
        """`path` if absolute, else relative to the graph's base path (OVMS semantics)."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_path / p)

    def side(self, port: InputSidePacket[T]) -> T:
        """The input side packet of `port` (KeyError if an optional one is unconnected)."""
        value: T = self.side_packets[port.tag]  # type: ignore[assignment]
        return value

    def service(self, key: GraphService[T]) -> T:
        """The server's value of graph service `key`, or its default (`ovserve.graph.services`)."""
        return self._services.get(key)

    def on_close(self, release: Callable[[], None]) -> None:
        """Register a callback run once when the graph is closed (after its last run)."""
        self._on_close(release)


@dataclass(frozen=True, slots=True)
class NodeFrame:
    """What every run's context of one node shares, made once when the graph loads."""

    node_name: str
    output_tags: frozenset[str]
    side_packets: Mapping[str, object]
    options: Message | None
    options_type: type[Message] | None
    node_state: Any


class CalculatorContext(_OptionsMixin):
    """One node's view of one run. Created by the runner; used on one worker thread.

    Attributes:
        node_name: the node's name.
        inputs: input-stream packets by tag (`port_key` for indices > 0); an unconnected
            optional input, or one whose stream is empty in this run, is absent.
        outputs: where `process` stores output packets by tag; only declared tags are accepted.
        side_packets: input side packets by tag (produced at load; shared, do not mutate).
        node_state: what `load` stored in `GraphLoadContext.node_state` (shared).
        scope: the client request the run serves (`ovserve.graph.request_scope`), None
            outside one; a `BatchCalculator` reads it here, since the thread that runs a
            batch serves many requests.

    A run makes one per node it passes, so the node's constants live in one shared
    `NodeFrame` and the context holds only what is the run's own (slots, no dict).
    """

    __slots__ = ("_frame", "inputs", "outputs", "scope")

    def __init__(
        self, frame: NodeFrame, inputs: Mapping[str, object], scope: RequestScope | None = None
    ) -> None:
        self._frame = frame
        self.inputs = inputs
        self.outputs: MutableMapping[str, object] = _Outputs(frame)
        self.scope = scope

    @property
    def node_name(self) -> str:  # type: ignore[override]  # read-only here
        return self._frame.node_name

    @property
    def side_packets(self) -> Mapping[str, object]:
        return self._frame.side_packets

    @property
    def node_state(self) -> Any:
        return self._frame.node_state

    @property
    def _options(self) -> Message | None:  # type: ignore[override]
        return self._frame.options

    @property
    def _options_type(self) -> type[Message] | None:  # type: ignore[override]
        return self._frame.options_type

    def get(self, port: Input[T]) -> T:
        """The packet on input `port`.

        Raises:
            InternalError: the input has no packet in this run (unconnected, or its stream
                came up empty); check `has(port)` first where that can happen.
        """
        try:
            value: T = self.inputs[port.tag]  # type: ignore[assignment]
        except KeyError:
            raise InternalError(f"{self.node_name}: input {port.tag} has no packet in this run") from None
        return value

    def set(self, port: Output[T], value: T) -> None:
        """Emit `value` on output `port`."""
        self.outputs[port.tag] = value

    def emits(self, port: Output[Any]) -> bool:
        """Whether output `port` is connected in this node (an optional output may not be)."""
        return port.tag in self._frame.output_tags

    def side(self, port: InputSidePacket[T]) -> T:
        """The input side packet of `port`."""
        value: T = self._frame.side_packets[port.tag]  # type: ignore[assignment]
        return value

    def has(self, port: Port[Any]) -> bool:
        """Whether an input or side packet is connected and, for an input, has a packet in this run."""
        return port.tag in (self._frame.side_packets if isinstance(port, InputSidePacket) else self.inputs)


class _Outputs(dict[str, object]):
    """A dict that refuses tags the calculator did not declare (catches typos at once)."""

    __slots__ = ("_frame",)

    def __init__(self, frame: NodeFrame) -> None:
        self._frame = frame  # dict.__init__ has nothing to do: the dict starts empty

    def __setitem__(self, key: str, value: object) -> None:
        allowed = self._frame.output_tags
        if key not in allowed:
            raise InternalError(
                f"{self._frame.node_name}: output {key!r} is not declared (declared: {sorted(allowed)})"
            )
        dict.__setitem__(self, key, value)
