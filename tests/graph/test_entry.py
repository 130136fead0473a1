"""The entry queue: a graph of batch nodes, one of which waits, takes many requests per job.

The toys record every `process_batch` call (node, texts, thread). The first node and the
waiting node can each hold a call open, so that the tests make requests queue at the entry,
or pass it while an earlier batch waits, without relying on timing.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from ovserve.errors import InvalidArgument, Unavailable
from ovserve.graph import (
    BatchCalculator,
    CalculatorContext,
    CalculatorContract,
    CalculatorRegistry,
    Graph,
    GraphLoadContext,
    Input,
    NodeExecutor,
    Output,
    parse_graph_text,
    register_calculator,
    request_scope,
    validate_graph,
)
from ovserve.graph.entry import EntryQueue
from ovserve.graph.resources import NoModels

ENTRY_TOYS = CalculatorRegistry()
T = TypeVar("T")
TEXT_IN = Input[str]("TEXT")
TEXT_OUT = Output[str]("TEXT")


@dataclass
class Probe:
    """What the toys saw; `holds[node]`, when set, keeps that node's next call open."""

    calls: list[tuple[str, list[str], str]] = field(default_factory=list)
    holds: dict[str, threading.Event] = field(default_factory=dict)
    entered: dict[str, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, node: str) -> threading.Event:
        self.entered[node] = threading.Event()
        self.holds[node] = threading.Event()
        return self.holds[node]

    def record(self, node: str, texts: list[str]) -> None:
        with self.lock:
            self.calls.append((node, texts, threading.current_thread().name))
            hold = self.holds.pop(node, None)
        if hold is not None:
            self.entered[node].set()
            hold.wait(10)

    def sizes(self, node: str) -> list[int]:
        with self.lock:
            return [len(texts) for name, texts, _ in self.calls if name == node]


PROBE = Probe()


@pytest.fixture(autouse=True)
def fresh_probe() -> Probe:
    global PROBE
    PROBE = Probe()
    return PROBE


def _mark(contexts: Sequence[CalculatorContext]) -> None:
    node = contexts[0].node_name
    PROBE.record(node, [ctx.get(TEXT_IN) for ctx in contexts])
    for ctx in contexts:
        if ctx.get(TEXT_IN).startswith("bad"):
            raise InvalidArgument(f"cannot mark {ctx.get(TEXT_IN)!r}")
        ctx.set(TEXT_OUT, ctx.get(TEXT_IN) + node[0])


@register_calculator(registry=ENTRY_TOYS)
class EntryMarkCalculator(BatchCalculator):
    """TEXT → TEXT + the node name's initial; fails a call holding a text that starts "bad"."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT)
        cc.process_in_batches()

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        _mark(contexts)


@register_calculator(registry=ENTRY_TOYS)
class WaitingMarkCalculator(BatchCalculator):
    """As `EntryMarkCalculator`, declared to wait on a shared device (as a model node is)."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT)
        cc.process_in_batches(waits=True)

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        _mark(contexts)


@dataclass(frozen=True)
class OneAtATime:
    """The node state of a waiting node that works on one batch at a time (one infer request)."""

    def concurrent_batches(self) -> int:
        return 1


@register_calculator(registry=ENTRY_TOYS)
class SingleSlotMarkCalculator(WaitingMarkCalculator):
    """As `WaitingMarkCalculator`, with one batch at a time (`ConcurrentBatches`)."""

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        lc.node_state = OneAtATime()


@register_calculator(registry=ENTRY_TOYS)
class PlainMarkCalculator(BatchCalculator):
    """A batch calculator that does not declare batches: it runs per run."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT)

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        _mark(contexts)


def graph_text(model: str = "WaitingMarkCalculator", last: str = "EntryMarkCalculator") -> str:
    """first → tokenize → model (waits) → pool, every node batch-capable by default."""
    return f"""
input_stream: "TEXT:in"
output_stream: "TEXT:out"
node {{ name: "first" calculator: "EntryMarkCalculator" input_stream: "TEXT:in" output_stream: "TEXT:a" }}
node {{ name: "tokenize" calculator: "EntryMarkCalculator" input_stream: "TEXT:a" output_stream: "TEXT:b" }}
node {{ name: "model" calculator: "{model}" input_stream: "TEXT:b" output_stream: "TEXT:c" }}
node {{ name: "pool" calculator: "{last}" input_stream: "TEXT:c" output_stream: "TEXT:out" }}
"""


def make_graph(executor: NodeExecutor, text: str | None = None) -> Graph:
    validated = validate_graph(parse_graph_text(text or graph_text(), "entry.pbtxt"), registry=ENTRY_TOYS)
    return Graph(validated, name="entry", resolver=NoModels(), executor=executor)


def the_entry(graph: Graph) -> EntryQueue:
    entry = graph.entry()
    assert entry is not None
    return entry


async def until(check: object, what: str) -> None:
    """Poll `check()` (a callable) on the loop until true; fail after 10 s."""
    assert callable(check)
    for _ in range(2000):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting until {what}")


async def queued_at_the_entry(
    graph: Graph, calls: Sequence[Callable[[], Awaitable[T]]]
) -> list[T | BaseException]:
    """Start `calls[0]` and hold its first node open until `calls[1:]` all wait at the graph's
    entry; then let them go. Returns each call's result or exception, in order."""
    entry = the_entry(graph)
    hold = PROBE.hold("first")
    lone = asyncio.ensure_future(calls[0]())
    await asyncio.to_thread(PROBE.entered["first"].wait, 10)
    queued = [asyncio.ensure_future(call()) for call in calls[1:]]
    await until(lambda: entry.waiting == len(queued), f"{len(queued)} requests wait at the entry")
    hold.set()
    return list(await asyncio.gather(lone, *queued, return_exceptions=True))


def runs(graph: Graph, texts: Sequence[str]) -> list[Callable[[], Awaitable[dict[str, object]]]]:
    return [functools.partial(graph.run, {"in": text}) for text in texts]


async def test_only_a_graph_of_batch_nodes_with_a_waiting_one_takes_requests_at_its_entry() -> None:
    async with NodeExecutor(max_workers=4) as executor:
        assert make_graph(executor).entry() is not None
        no_wait = make_graph(executor, graph_text(model="EntryMarkCalculator"))
        assert no_wait.entry() is None
        per_run = make_graph(executor, graph_text(last="PlainMarkCalculator"))
        assert per_run.entry() is None
        # Either way every request is answered the same.
        for graph in (make_graph(executor), no_wait, per_run):
            assert await graph.run({"in": "x"}) == {"out": "xftmp"}
            graph.close()


async def test_a_lone_request_goes_through_every_node_in_one_job_on_one_thread() -> None:
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor)
        assert await graph.run({"in": "x"}) == {"out": "xftmp"}
        assert the_entry(graph).jobs == 1
        graph.close()
    assert [node for node, _, _ in PROBE.calls] == ["first", "tokenize", "model", "pool"]
    assert len({thread for _, _, thread in PROBE.calls}) == 1


async def test_requests_that_queue_at_the_entry_go_through_every_node_in_one_call_each() -> None:
    texts = [f"t{i}" for i in range(6)]
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor)
        results = await queued_at_the_entry(graph, runs(graph, texts))
        assert results == [{"out": f"{t}ftmp"} for t in texts]
        assert the_entry(graph).jobs == 2  # the five took one job: one thread wake-up, one loop wake-up
        assert graph.stats().node_batches == {
            name: {1: 1, 5: 1} for name in ("first", "tokenize", "model", "pool")
        }
        graph.close()
    batch_threads = {thread for _, texts_, thread in PROBE.calls if len(texts_) == 5}
    assert len(batch_threads) == 1


async def test_the_next_batch_passes_the_entry_while_the_last_one_waits_in_the_model() -> None:
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor)
        hold = PROBE.hold("model")
        first = asyncio.ensure_future(graph.run({"in": "a"}))
        await asyncio.to_thread(PROBE.entered["model"].wait, 10)
        later = [asyncio.ensure_future(graph.run({"in": t})) for t in ("b", "c")]
        # Both go through the nodes before the model while "a" is still inside it.
        await until(lambda: sum(PROBE.sizes("tokenize")) == 3, "b and c are tokenized")
        assert not first.done()
        hold.set()
        assert await asyncio.gather(first, *later) == [{"out": f"{t}ftmp"} for t in "abc"]
        graph.close()


async def test_requests_wait_at_the_entry_while_the_waiting_node_is_full() -> None:
    """A model with one infer request: the requests that arrive while a batch is in it queue at
    the entry, and the job that starts when it leaves takes all of them."""
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor, graph_text(model="SingleSlotMarkCalculator"))
        entry = the_entry(graph)
        assert entry.inside_limit == 1
        hold = PROBE.hold("model")
        first = asyncio.ensure_future(graph.run({"in": "a"}))
        await asyncio.to_thread(PROBE.entered["model"].wait, 10)
        later = [asyncio.ensure_future(graph.run({"in": t})) for t in ("b", "c", "d")]
        await until(lambda: entry.waiting == 3, "b, c and d wait at the entry")
        assert PROBE.sizes("first") == [1]
        hold.set()
        assert await asyncio.gather(first, *later) == [{"out": f"{t}ftmp"} for t in "abcd"]
        assert entry.jobs == 2
        graph.close()
    assert PROBE.sizes("first") == PROBE.sizes("model") == [1, 3]


async def test_a_request_that_fails_before_the_model_is_answered_without_waiting_for_it() -> None:
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor, graph_text(model="SingleSlotMarkCalculator"))
        entry = the_entry(graph)
        hold = PROBE.hold("model")
        first = asyncio.ensure_future(graph.run({"in": "a"}))
        await asyncio.to_thread(PROBE.entered["model"].wait, 10)
        good = asyncio.ensure_future(graph.run({"in": "b"}))
        bad = asyncio.ensure_future(graph.run({"in": "bad"}))
        await until(lambda: entry.waiting == 2, "b and bad wait at the entry")
        second_hold = PROBE.hold("model")  # holds the next job's batch (b) in the model
        hold.set()
        with pytest.raises(InvalidArgument, match="cannot mark 'bad'"):
            await bad
        assert not good.done()
        second_hold.set()
        assert list(await asyncio.gather(first, good)) == [{"out": "aftmp"}, {"out": "bftmp"}]
        graph.close()


async def test_a_request_that_breaks_a_batch_call_fails_alone() -> None:
    texts = ["t0", "t1", "bad2", "t3"]
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor)
        results = await queued_at_the_entry(graph, runs(graph, texts))
        graph.close()
    failed = results[2]
    assert isinstance(failed, InvalidArgument)
    assert failed.message == "Calculator::Process() for node \"first\" failed: cannot mark 'bad2'"
    assert [r for i, r in enumerate(results) if i != 2] == [{"out": f"{t}ftmp"} for t in texts if t != "bad2"]
    assert PROBE.sizes("first") == [1, 3, 1, 1, 1]  # the merged call raised; each then alone
    assert PROBE.sizes("tokenize") == [1, 2]  # the survivors went on together


async def test_finish_runs_per_request_in_its_own_context_and_its_error_stays_its_own() -> None:
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor)

        def finish(outputs: dict[str, object]) -> str:
            scope = request_scope.current()
            assert scope is not None
            text = str(outputs["out"])
            if text.startswith("boom"):
                raise ValueError("the caller's own check failed")
            return f"{text}@{scope.graph_runs}"

        async def one(text: str) -> str:
            with request_scope.entered(request_scope.RequestScope()):
                return await graph.run_then({"in": text}, finish)

        calls = [functools.partial(one, text) for text in ("x", "y", "boom", "z")]
        results = await queued_at_the_entry(graph, calls)
        graph.close()
    assert results[:2] == ["xftmp@1", "yftmp@1"]
    assert isinstance(results[2], ValueError)
    assert results[3] == "zftmp@1"


async def test_a_cancelled_request_is_dropped_and_the_graph_still_closes() -> None:
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor)
        hold = PROBE.hold("model")
        gone = asyncio.ensure_future(graph.run({"in": "gone"}))
        await asyncio.to_thread(PROBE.entered["model"].wait, 10)
        gone.cancel()
        kept = asyncio.ensure_future(graph.run({"in": "kept"}))
        await until(lambda: "kept" in [t for _, texts, _ in PROBE.calls for t in texts], "kept is queued")
        hold.set()
        assert await kept == {"out": "keptftmp"}
        with pytest.raises(asyncio.CancelledError):
            await gone
        await asyncio.to_thread(graph.close, 10)  # waits for "gone" to leave the graph
        with pytest.raises(Unavailable, match="is closed"):
            await graph.run({"in": "late"})


async def test_requests_queued_when_the_executor_shuts_down_are_refused() -> None:
    executor = NodeExecutor(max_workers=2)
    graph = make_graph(executor)
    executor.shutdown(wait=False)
    with pytest.raises(Unavailable, match="shut down"):
        await graph.run({"in": "x"})
    await asyncio.to_thread(graph.close, 1)  # nothing stays counted in flight


async def test_many_concurrent_requests_all_get_their_own_answers() -> None:
    texts = [f"t{i}" for i in range(200)]
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor)
        results = await asyncio.gather(*(graph.run({"in": t}) for t in texts))
        graph.close()
    assert results == [{"out": f"{t}ftmp"} for t in texts]
    assert all(max(PROBE.sizes(node)) <= 64 for node in ("first", "tokenize", "model", "pool"))
    assert sum(PROBE.sizes("pool")) == 200


async def test_without_the_entry_a_carry_stops_before_a_waiting_node() -> None:
    """Thread-per-run graphs: runs carried together from a gate go on alone at a waiting node,
    whose gate does not gather (the runs meet inside it, e.g. in a model's batcher)."""
    texts = [f"t{i}" for i in range(4)]
    async with NodeExecutor(max_workers=8) as executor:
        graph = make_graph(executor, graph_text(last="PlainMarkCalculator"))
        hold = PROBE.hold("first")
        lone = asyncio.ensure_future(graph.run({"in": texts[0]}))
        await asyncio.to_thread(PROBE.entered["first"].wait, 10)
        queued = [asyncio.ensure_future(graph.run({"in": t})) for t in texts[1:]]
        gate = graph.gates()["first"]
        await until(lambda: gate.waiting == 3, "three runs wait at the first gate")
        hold.set()
        assert await asyncio.gather(lone, *queued) == [{"out": f"{t}ftmp"} for t in texts]
        graph.close()
    assert PROBE.sizes("tokenize") == [1, 3]
    assert PROBE.sizes("model") == [1] * 4
    assert len({thread for node, _, thread in PROBE.calls if node == "model"}) == 4
