"""`Graph`: a loaded graph definition that runs requests; `load_graph` makes one.

One request is one run: the graph's input packets (by input stream *name*, e.g. `input`
for `REQUEST_PAYLOAD:input`) go through every node in topological order, and the packets
of the graph's output streams come back by name. A run executes all its nodes, one after
the other, inside a single job on the `NodeExecutor` (one thread hop per request);
concurrency comes from concurrent requests.

As in MediaPipe, a stream may carry no packet in a run: a node whose input streams all came
up empty is skipped and emits nothing, and a node with some empty inputs runs and sees only
the present ones (`ctx.has`). That is how one graph serves two operations (the request node
emits on the embeddings branch or on the tokenize branch, and the other branch's nodes are
skipped). Each run creates fresh calculator instances,
so runs share only the immutable load products (side packets, options, node state), and a
failed run leaves nothing behind that a later run could pick up.

A node whose calculator processes in batches has a gate (`ovserve.graph.batch_runs`): runs
that reach it together go through it, and through the batch-capable nodes right after it,
in one `process_batch` call per node on one of their threads.

A graph whose every node batches, one of them waiting on a device (the model), goes further:
`run` queues requests at the graph's entry and one executor job carries many of them through
the whole graph (`ovserve.graph.entry`), so a request costs no thread of its own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, TypeVar

from ovserve.errors import InternalError, InvalidArgument, Unavailable
from ovserve.graph import request_scope
from ovserve.graph.batch_runs import NodeGate, WaitingRun
from ovserve.graph.calculator import BatchCalculator
from ovserve.graph.context import CalculatorContext
from ovserve.graph.entry import ConcurrentBatches, EntryQueue
from ovserve.graph.executor import NodeExecutor
from ovserve.graph.node_loading import CoreSource, default_core, load_nodes
from ovserve.graph.node_runs import NodeWiring, node_failure
from ovserve.graph.parser import parse_graph_file
from ovserve.graph.registry import CalculatorRegistry, default_registry
from ovserve.graph.resources import ModelResolver, NoModels
from ovserve.graph.services import GraphServices
from ovserve.graph.stats import GraphStats
from ovserve.graph.validation import ValidatedGraph, validate_graph

if TYPE_CHECKING:
    import openvino

log = logging.getLogger(__name__)

T = TypeVar("T")


def _outputs_as_they_are(outputs: dict[str, object]) -> dict[str, object]:
    return outputs


class GraphSource(Protocol):
    """Where a graph comes from; `ovserve.workspace.GraphSpec` satisfies it."""

    @property
    def name(self) -> str: ...
    @property
    def graph_path(self) -> Path: ...
    @property
    def base_path(self) -> Path: ...


def load_graph(
    source: GraphSource,
    *,
    resolver: ModelResolver | None = None,
    registry: CalculatorRegistry | None = None,
    core: openvino.Core | None = None,
    executor: NodeExecutor | None = None,
    side_packets: Mapping[str, object] | None = None,
    services: GraphServices | None = None,
) -> Graph:
    """Parse, validate and load the graph of `source`. Blocking: call it off the event loop.

    Args:
        resolver: the server's models (default: none).
        registry: calculators by name (default: `default_registry`).
        core: the shared `openvino.Core` (default: a process-wide one, created on demand).
        executor: the pool runs execute on; when None the graph owns a private one.
        side_packets: values of the graph's `input_side_packet`s, by name.
        services: the server's graph services (default: every service's default).

    Raises:
        ConfigError: the file does not parse or validate (message names file, line, node).
        OvserveError: a node's `load` failed (e.g. NotFound for a missing model).
    """
    parsed = parse_graph_file(source.graph_path)
    validated = validate_graph(
        parsed, registry=registry or default_registry, base_path=source.base_path, services=services
    )
    return Graph(
        validated,
        name=source.name,
        resolver=resolver or NoModels(),
        core=core,
        executor=executor,
        side_packets=side_packets or {},
        services=services,
    )


class Graph:
    """A loaded graph. `run` is safe to call concurrently; `close` releases the resources."""

    def __init__(
        self,
        validated: ValidatedGraph,
        *,
        name: str,
        resolver: ModelResolver,
        core: openvino.Core | None = None,
        executor: NodeExecutor | None = None,
        side_packets: Mapping[str, object] | None = None,
        services: GraphServices | None = None,
    ) -> None:
        """Load every node (blocking). Raises as `load_graph` does."""
        self.name = name
        self.validated = validated
        core_source: CoreSource = (lambda: core) if core is not None else default_core
        self._loaded = load_nodes(
            validated,
            resolver=resolver,
            core=core_source,
            side_packets=side_packets or {},
            services=services or GraphServices(),
        )
        self._owns_executor = executor is None
        self._executor = executor or NodeExecutor(name=f"ovserve-{name}")
        self._plan = tuple(n for n in validated.nodes if n.runs_per_request)
        self._wiring = tuple(
            NodeWiring.of(n, self._loaded.side_packets, self._loaded.node_state) for n in self._plan
        )
        self._gates = tuple(
            NodeGate(n.batch_max_runs, self._carry, gathers=not n.batch_waits) if n.batch_max_runs else None
            for n in self._plan
        )
        self._input_names = frozenset(r.name for r in validated.input_streams)
        self._output_names = tuple(r.name for r in validated.output_streams)
        self._lock = threading.Condition()
        self._in_flight = 0
        self._closed = False
        self._entry = self._entry_queue()

    def _entry_queue(self) -> EntryQueue | None:
        """The entry queue, for a plan of batch-capable nodes one of which waits; else None."""
        plan = self._plan
        if not plan or not all(n.batch_max_runs for n in plan):
            return None
        split = next((step for step, n in enumerate(plan) if n.batch_waits), None)
        if split is None:
            return None
        state = self._wiring[split].node_state
        limit = state.concurrent_batches() if isinstance(state, ConcurrentBatches) else None
        return EntryQueue(
            submit=self._executor.submit,
            carry=self._carry_steps,
            split=split,
            steps=len(plan),
            skips=self._skips,
            outputs=self._outputs_of,
            done=self._leave,
            max_runs=min(n.batch_max_runs for n in plan),
            inside_limit=limit,
        )

    @functools.cached_property
    def input_streams(self) -> tuple[str, ...]:
        """`TAG:name` of each graph input stream (front ends pick theirs by tag)."""
        return tuple(str(r) for r in self.validated.input_streams)

    @functools.cached_property
    def output_streams(self) -> tuple[str, ...]:
        return tuple(str(r) for r in self.validated.output_streams)

    def side_packet(self, name: str) -> object:
        """The side packet `name` produced at load (KeyError if none). Shared: do not mutate."""
        return self._loaded.side_packets[name]

    def stats(self) -> GraphStats:
        """What the graph's nodes report now (`ovserve.graph.stats`); cheap, thread-safe."""
        gates = {
            node.name: MappingProxyType(gate.call_size_counts())
            for node, gate in zip(self._plan, self._gates, strict=True)
            if gate is not None
        }
        return GraphStats.of(self._loaded.node_state.values(), gates)

    def gates(self) -> Mapping[str, NodeGate]:
        """The gate of each batch-capable node, by node name (for tests and diagnostics)."""
        return MappingProxyType(
            {node.name: gate for node, gate in zip(self._plan, self._gates, strict=True) if gate is not None}
        )

    @property
    def runs_in_flight(self) -> int:
        """Runs admitted and not yet answered (waiting at the entry or a gate, or running)."""
        with self._lock:
            return self._in_flight

    def entry(self) -> EntryQueue | None:
        """The queue requests wait in at the graph's entry, when the graph takes them there
        (`ovserve.graph.entry`: every node batches and one waits); else None. For tests and
        diagnostics."""
        return self._entry

    def node_states(self) -> Mapping[str, object]:
        """Each node's state made at load, by node name (shared by all runs: do not mutate)."""
        return MappingProxyType(self._loaded.node_state)

    async def run(self, inputs: Mapping[str, object]) -> dict[str, object]:
        """Run one request on the executor; return the output packets by stream name.

        Output streams that came up empty in this run are absent; at least one is present.

        Raises:
            InvalidArgument: `inputs` does not name exactly the graph's input streams.
            Unavailable: the graph is closed.
            OvserveError: a node failed; same class and code as the calculator raised,
                message `Calculator::Process() for node "<node>" failed: <message>`;
                unexpected exceptions become InternalError.
        """
        return await self.run_then(inputs, _outputs_as_they_are)

    async def run_then(self, inputs: Mapping[str, object], finish: Callable[[dict[str, object]], T]) -> T:
        """`run`, then `finish(outputs)` on the same worker thread; return what `finish` returns.

        For work on the answer that should not run on the event loop (e.g. encoding a response
        body), without a second thread hop. Raises as `run`, and whatever `finish` raises.
        """
        self._check_inputs(inputs)
        if self._entry is not None:
            self._enter()
            result: T = await self._entry.submit(dict(inputs), finish)
            return result
        return await self._executor.run(self._run_queued, time.perf_counter(), dict(inputs), finish)

    def _run_queued(
        self, submitted: float, inputs: Mapping[str, object], finish: Callable[[dict[str, object]], T]
    ) -> T:
        scope = request_scope.current()
        if scope is not None:
            scope.queue_s += time.perf_counter() - submitted
            scope.graph_runs += 1
        return finish(self.run_sync(inputs))

    def run_sync(self, inputs: Mapping[str, object]) -> dict[str, object]:
        """`run` on the calling thread (tests, tools). Never call it on the event loop."""
        self._check_inputs(inputs)
        self._enter()
        try:
            packets: dict[str, object] = dict(inputs)
            scope = request_scope.current()
            step = 0
            while step < len(self._plan):
                gate = self._gates[step]
                if gate is None:
                    self._run_node(step, packets, scope)
                    step += 1
                    continue
                run = WaitingRun(packets, scope, step)
                gate.pass_through(run)
                if run.error is not None:
                    raise run.error
                step = run.step
            return self._outputs_of(WaitingRun(packets, scope, step))
        finally:
            self._leave(1)

    def _enter(self) -> None:
        """Count a run in (`close` waits for it). Raises Unavailable once the graph is closed."""
        with self._lock:
            if self._closed:
                raise Unavailable(f"graph {self.name!r} is closed")
            self._in_flight += 1

    def _leave(self, runs: int) -> None:
        with self._lock:
            self._in_flight -= runs
            self._lock.notify_all()

    def _outputs_of(self, run: WaitingRun) -> dict[str, object]:
        """The output packets of a run that went through the whole plan."""
        outputs = {n: run.packets[n] for n in self._output_names if n in run.packets}
        if not outputs:
            raise InternalError(f"graph {self.name!r}: no packet on any output stream")
        return outputs

    def _check_inputs(self, inputs: Mapping[str, object]) -> None:
        if set(inputs) != self._input_names:
            raise InvalidArgument(
                f"graph {self.name!r} takes input streams {sorted(self._input_names)}, got {sorted(inputs)}"
            )

    def _context(
        self, step: int, packets: Mapping[str, object], scope: request_scope.RequestScope | None
    ) -> CalculatorContext | None:
        """Plan node `step`'s context in a run with `packets`; None when the node is skipped in it."""
        wiring = self._wiring[step]
        node_inputs = {key: packets[name] for key, name in wiring.inputs if name in packets}
        if wiring.inputs and not node_inputs:
            return None  # every input is empty in this run: the node is skipped, as in MediaPipe
        return CalculatorContext(wiring.frame, node_inputs, scope)

    def _skips(self, run: WaitingRun, step: int) -> bool:
        """Whether plan node `step` is skipped in `run` (as `_context` decides, without a context)."""
        inputs = self._wiring[step].inputs
        return bool(inputs) and not any(name in run.packets for _, name in inputs)

    def _emit(self, step: int, ctx: CalculatorContext, packets: dict[str, object]) -> None:
        outputs = ctx.outputs
        for key, name in self._wiring[step].outputs:
            if key in outputs:
                packets[name] = outputs[key]

    def _run_node(
        self, step: int, packets: dict[str, object], scope: request_scope.RequestScope | None
    ) -> None:
        ctx = self._context(step, packets, scope)
        if ctx is None:
            return
        node = self._plan[step]
        try:
            calculator = node.cls()
            calculator.open(ctx)
            try:
                calculator.process(ctx)
            finally:
                calculator.close(ctx)
        except Exception as exc:
            raise node_failure(self.name, node, exc) from exc
        self._emit(step, ctx, packets)

    def _carry(self, runs: list[WaitingRun]) -> None:
        """Run a gate's batch through its node and the batch-capable nodes after it
        (`batch_runs.Carry`): each run ends at the first per-run or waiting node, or the end,
        or failed. A waiting node's runs go on alone, to meet other runs inside it."""
        start = runs[0].step
        stop = start + 1
        while stop < len(self._plan) and self._gates[stop] is not None and not self._plan[stop].batch_waits:
            stop += 1
        self._carry_steps(runs, start, stop)
        for run in runs:
            run.step = stop

    def _carry_steps(self, runs: list[WaitingRun], start: int, stop: int) -> None:
        """Plan steps `start:stop`, all batch-capable, for `runs`; a run that fails stops there."""
        live = [run for run in runs if run.error is None]
        for step in range(start, stop):
            if not live:
                return
            size = self._plan[step].batch_max_runs
            for first in range(0, len(live), size):
                self._process_batch(step, live[first : first + size])
            live = [run for run in live if run.error is None]

    def _process_batch(self, step: int, runs: list[WaitingRun]) -> None:
        """One `process_batch` call for `runs` at the plan's node `step`; each run alone if
        that raises. Every call is counted at the node's gate (`Graph.stats().node_batches`)."""
        node, gate = self._plan[step], self._gates[step]
        assert gate is not None  # every batch-capable node has one
        cls = node.cls
        assert issubclass(cls, BatchCalculator)  # validation admits batches of these only
        entries = [
            (run, ctx) for run in runs if (ctx := self._context(step, run.packets, run.scope)) is not None
        ]
        if not entries:
            return
        gate.record_call(len(entries))
        try:
            cls.process_batch([ctx for _, ctx in entries])
        except Exception as exc:
            if len(entries) == 1:
                entries[0][0].error = node_failure(self.name, node, exc)
                return
            # Alone, so that only the run whose input breaks the node fails.
            for run, _ in entries:
                ctx = self._context(step, run.packets, run.scope)
                assert ctx is not None
                gate.record_call(1)
                try:
                    cls.process_batch([ctx])
                except Exception as single:
                    run.error = node_failure(self.name, node, single)
                else:
                    self._emit(step, ctx, run.packets)
            return
        for run, ctx in entries:
            self._emit(step, ctx, run.packets)

    def close(self, timeout: float | None = 30.0) -> None:
        """Refuse new runs, wait (up to `timeout` s) for running ones, release resources.

        Blocking; idempotent. Resources are released even when the wait times out.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self._lock.wait_for(lambda: self._in_flight == 0, timeout=timeout):
                log.warning("graph %r closed with %d runs still in flight", self.name, self._in_flight)
        self._loaded.release()
        if self._owns_executor:
            self._executor.shutdown(wait=False)

    async def aclose(self) -> None:
        """`close` without blocking the event loop."""
        await asyncio.to_thread(self.close)

    async def __aenter__(self) -> Graph:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
