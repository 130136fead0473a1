"""The calculator API of ovserve (MediaPipe's contract, in Python). This docstring is the spec.

A graph.pbtxt is a list of nodes; each names a registered calculator class by its class
name (`calculator: "FooCalculator"`), wires ports as `"TAG:name"` / `"TAG:index:name"` /
`"name"` strings, and carries options (`node_options` Any, or legacy `options { [ext] }`).

Lifecycle, per graph definition (load; blocking, on the thread that loads the graph):

1. `Subgraph.get_contract` + `Subgraph.expand(node, ec)` — a registered `Subgraph`
   replaces its node by a list of nodes (recursively expanded), like MediaPipe subgraphs.
   This is how OVMS's `EmbeddingsCalculator` / `EmbeddingsCalculatorOV` become the native
   tokenizer → embeddings → pooling → normalize chain without a second implementation.
2. `Calculator.get_contract(cc)` for every node — declares ports and the options type.
   Validation rejects the graph (`ConfigError` naming graph file and node) when tags, the
   options type or required options do not match, or a stream/side packet is dangling.
3. `Calculator.load(lc)` for every node, once, in side-packet dependency order. This is
   where heavy resources are made: a node with `output_side_packet`s must set each of them
   in `lc.output_side_packets[TAG]` (e.g. a session calculator stores
   `lc.resolver.resolve(name)`; an OV calculator compiles `lc.resolve_path(models_path)`
   with the shared `lc.core`). Side packets are shared by all runs: treat them as
   read-only (create per-run `InferRequest`s from a shared `CompiledModel`, or use the
   thread-safe `CompiledModel` call). Register releases with `lc.on_close(fn)`.
   An `OvserveError` raised here fails the graph with that error (other graphs keep
   serving); any other exception becomes `InternalError`.

Per run (one request = one run through the DAG, in topological order, on an ovserve
worker thread — never on the event loop; runs of the same graph happen concurrently):

4. A fresh instance: `cls()` (no arguments; keep `__init__` trivial), then `open(ctx)`,
   `process(ctx)`, `close(ctx)` — each exactly once. Instances are never shared between
   runs and never reused after a failure, so instance attributes are private per run.
   Nodes without input or output streams (pure side-packet producers) are not run.
5. `process` reads `ctx.inputs[TAG]` / `ctx.get(PORT)`, side packets and `ctx.options(T)`,
   and writes every output with `ctx.outputs[TAG] = value` / `ctx.set(PORT, value)`.
   Raise `InvalidArgument` (or another `OvserveError`) for bad requests: the graph reports
   it with its code and the message `Calculator::Process() for node "<node>" failed: <msg>`
   (the original error is the `__cause__`). Any other exception is a bug: InternalError.
6. Batch-capable nodes (`BatchCalculator`, declared with `cc.process_in_batches()`): when
   several runs wait at such a node, the engine calls the class's `process_batch(contexts)`
   once for all of them (one context per run, as step 5 describes it) instead of creating an
   instance per run, and carries those runs on together through the batch-capable nodes that
   follow, on the thread that led the call. A call that raises is repeated for each run
   alone, so only the run whose input breaks it fails (with the message of step 5). Such a
   node keeps no per-run state; it reads a run's request facts from `ctx.scope`, not from
   `request_scope.current()` (which is the leading run's, or None). Other calculators keep the
   per-run semantics of step 4. A node whose call may block on something shared (a model's
   infer requests) declares `cc.process_in_batches(waits=True)`: runs meet inside it rather
   than at its gate, and a graph whose every node batches, one of them waiting, takes its
   requests at its entry, many per worker job (`ovserve.graph.entry`).

Example (a complete calculator; its pbtxt node is in the docstring, as house style wants):

    '''Scales a float vector.

    Example config:
        node {
          calculator: "ScaleCalculator"
          input_stream: "VALUES:values"
          output_stream: "VALUES:scaled"
          node_options: { [type.googleapis.com/ovserve.ScaleCalculatorOptions]: { factor: 2 } }
        }
    '''
    VALUES_IN = Input[list[float]]("VALUES")
    VALUES_OUT = Output[list[float]]("VALUES")

    @register_calculator
    class ScaleCalculator(Calculator):
        @classmethod
        def get_contract(cls, cc: CalculatorContract) -> None:
            cc.declare(VALUES_IN, VALUES_OUT)
            cc.set_options(ScaleCalculatorOptions, required=True)

        def process(self, ctx: CalculatorContext) -> None:
            factor = ctx.options(ScaleCalculatorOptions).factor
            ctx.set(VALUES_OUT, [v * factor for v in ctx.get(VALUES_IN)])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ovserve.errors import InternalError
from ovserve.graph.context import CalculatorContext, ExpandContext, GraphLoadContext
from ovserve.graph.contract import CalculatorContract
from ovserve.graph.pb import NodeConfig
from ovserve.graph.ports import Input, InputSidePacket, Output, OutputSidePacket, Port, port_key
from ovserve.graph.resources import LoadedModel, ModelResolver

__all__ = [
    "BatchCalculator",
    "Calculator",
    "CalculatorContext",
    "CalculatorContract",
    "ExpandContext",
    "GraphLoadContext",
    "Input",
    "InputSidePacket",
    "LoadedModel",
    "ModelResolver",
    "NodeConfig",
    "Output",
    "OutputSidePacket",
    "Port",
    "ResourceCalculator",
    "Subgraph",
    "port_key",
]


class Calculator(ABC):
    """Base of every calculator. Thread-compatible: one instance serves one run only."""

    @classmethod
    @abstractmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        """Declare ports and options. Called once per node at graph load; must not do I/O."""

    @classmethod  # noqa: B027 - an optional hook, a no-op by default
    def load(cls, lc: GraphLoadContext) -> None:
        """Create the node's heavy resources and output side packets (once per graph load).

        Runs on the graph-loading thread. Raise `ConfigError` / `NotFound` / `Unavailable`
        with a message naming what is missing (e.g. a model file).
        """

    def open(self, ctx: CalculatorContext) -> None:  # noqa: B027 - optional hook
        """Per-run setup, before `process`. Keep it cheap: it runs for every request."""

    @abstractmethod
    def process(self, ctx: CalculatorContext) -> None:
        """Compute the outputs of one run from its inputs (on a worker thread)."""

    def close(self, ctx: CalculatorContext) -> None:  # noqa: B027 - optional hook
        """Per-run teardown; called after `open` succeeded, even when `process` raised."""


class BatchCalculator(Calculator):
    """A calculator whose concurrent runs the engine may process in one call (spec, step 6).

    Subclasses implement `process_batch` and declare `cc.process_in_batches()` in their
    contract; without the declaration every run calls `process_batch([ctx])` alone.
    """

    @classmethod
    @abstractmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        """Set the outputs of every context in `contexts` (runs of this node, in arrival order).

        All contexts share the node's options, side packets and node state; each has its
        own inputs and `scope`. Raise as `process` does: the engine then repeats the call
        for each context alone, so a raise should mean that some context's input is bad.
        """

    def process(self, ctx: CalculatorContext) -> None:
        type(self).process_batch((ctx,))


class ResourceCalculator(Calculator):
    """A calculator that only produces output side packets in `load` (never run per request).

    Subclasses implement `get_contract` (declaring `OutputSidePacket`s) and `load`.
    """

    @classmethod
    @abstractmethod
    def load(cls, lc: GraphLoadContext) -> None:
        """Set every declared output side packet in `lc.output_side_packets`."""

    def process(self, ctx: CalculatorContext) -> None:
        raise InternalError(f"{ctx.node_name}: resource calculator {type(self).__name__} was run per request")


class Subgraph(ABC):
    """A registered name that expands into other nodes when the graph loads.

    `get_contract` is checked against the node as written (so the user gets errors about
    their own tags and options); the nodes `expand` returns are validated like any other.
    """

    @classmethod
    @abstractmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        """Declare the ports and options the node may use, as for a calculator."""

    @classmethod
    @abstractmethod
    def expand(cls, node: NodeConfig, ec: ExpandContext) -> list[NodeConfig]:
        """Return the nodes replacing `node` (called once per graph load, loading thread).

        The returned nodes must consume the node's input streams and produce its output
        streams under the same names; internal streams and side packets get names from
        `ec.unique_name(hint)`. Nodes left unnamed are named `<node>/<Calculator>`; errors
        at run time name the original node, as users know only that one. Raise
        `ConfigError` for option values that cannot be served.
        """
