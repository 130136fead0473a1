"""Batch-capable nodes: runs that wait at one go through it in one call and on together.

The toy calculators below record every `process_batch` call (its texts and thread); the first
node can hold its first call open, so that the other runs queue at its gate meanwhile: the
tests make the engine merge without relying on timing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from ovserve.errors import InternalError, InvalidArgument
from ovserve.graph import (
    BatchCalculator,
    Calculator,
    CalculatorContext,
    CalculatorContract,
    CalculatorRegistry,
    Graph,
    Input,
    NodeExecutor,
    Output,
    parse_graph_text,
    register_calculator,
    validate_graph,
)
from ovserve.graph.resources import NoModels

BATCH_TOYS = CalculatorRegistry()
TEXT_IN = Input[str]("TEXT")
TEXT_OUT = Output[str]("TEXT")


@dataclass
class Probe:
    """What the toys saw: (node, texts, thread) per call; `hold` keeps the first call open."""

    calls: list[tuple[str, list[str], str]] = field(default_factory=list)
    hold: threading.Event | None = None
    entered: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, node: str, texts: list[str]) -> None:
        with self.lock:
            self.calls.append((node, texts, threading.current_thread().name))
        if self.hold is not None and node == "first":
            self.entered.set()
            hold, self.hold = self.hold, None
            hold.wait(10)

    def sizes(self, node: str) -> list[int]:
        return [len(texts) for name, texts, _ in self.calls if name == node]


PROBE = Probe()


@pytest.fixture(autouse=True)
def fresh_probe() -> Probe:
    global PROBE
    PROBE = Probe()
    return PROBE


@register_calculator(registry=BATCH_TOYS)
class MarkCalculator(BatchCalculator):
    """TEXT → TEXT + the node name's initial; a trailing digit in the name is its `max_runs`.

    A call fails when any of its texts starts with "bad".
    """

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT)
        cc.process_in_batches(max_runs=int(cc.node.name[-1]) if cc.node.name[-1].isdigit() else 64)

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        node = contexts[0].node_name.rstrip("0123456789")
        PROBE.record(node, [ctx.get(TEXT_IN) for ctx in contexts])
        for ctx in contexts:
            if ctx.get(TEXT_IN).startswith("bad"):
                raise InvalidArgument(f"cannot mark {ctx.get(TEXT_IN)!r}")
            ctx.set(TEXT_OUT, ctx.get(TEXT_IN) + node[0])


@register_calculator(registry=BATCH_TOYS)
class PerRunCalculator(Calculator):
    """TEXT → TEXT + "."; records its thread (one call per run)."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT)

    def process(self, ctx: CalculatorContext) -> None:
        PROBE.record("per_run", [ctx.get(TEXT_IN)])
        ctx.set(TEXT_OUT, ctx.get(TEXT_IN) + ".")


@register_calculator(registry=BATCH_TOYS)
class UndeclaredBatchCalculator(Calculator):
    """A per-run calculator that wrongly declares batches (a calculator bug)."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT)
        cc.process_in_batches()

    def process(self, ctx: CalculatorContext) -> None:
        ctx.set(TEXT_OUT, ctx.get(TEXT_IN))


def chain(first: str = "first") -> str:
    """first (batch) → second (batch) → a per-run node → third (batch)."""
    return f"""
input_stream: "TEXT:in"
output_stream: "TEXT:out"
node {{ name: "{first}" calculator: "MarkCalculator" input_stream: "TEXT:in" output_stream: "TEXT:a" }}
node {{ name: "second" calculator: "MarkCalculator" input_stream: "TEXT:a" output_stream: "TEXT:b" }}
node {{ name: "per_run" calculator: "PerRunCalculator" input_stream: "TEXT:b" output_stream: "TEXT:c" }}
node {{ name: "third" calculator: "MarkCalculator" input_stream: "TEXT:c" output_stream: "TEXT:out" }}
"""


def make_graph(text: str, executor: NodeExecutor) -> Graph:
    validated = validate_graph(parse_graph_text(text, "batch.pbtxt"), registry=BATCH_TOYS)
    return Graph(validated, name="batch", resolver=NoModels(), executor=executor)


async def run_queued(graph: Graph, texts: list[str]) -> list[dict[str, object] | BaseException]:
    """Run texts[0] and hold its first call open until texts[1:] all wait at the first gate."""
    PROBE.hold = threading.Event()
    hold = PROBE.hold
    leader = asyncio.ensure_future(graph.run({"in": texts[0]}))
    await asyncio.to_thread(PROBE.entered.wait, 10)
    others = [asyncio.ensure_future(graph.run({"in": t})) for t in texts[1:]]
    gate = next(gate for name, gate in graph.gates().items() if name.startswith("first"))
    for _ in range(1000):
        if gate.waiting == len(texts) - 1:
            break
        await asyncio.sleep(0.005)
    assert gate.waiting == len(texts) - 1
    hold.set()
    return list(await asyncio.gather(leader, *others, return_exceptions=True))


async def test_a_lone_run_goes_through_batch_nodes_on_its_own_thread() -> None:
    async with NodeExecutor(max_workers=2) as executor:
        graph = make_graph(chain(), executor)
        assert await graph.run({"in": "x"}) == {"out": "xfs.t"}
        graph.close()
    assert {thread for _, _, thread in PROBE.calls} == {PROBE.calls[0][2]}  # one thread, no hop
    assert [node for node, _, _ in PROBE.calls] == ["first", "second", "per_run", "third"]


async def test_queued_runs_go_through_in_one_call_and_are_carried_on_together() -> None:
    texts = [f"t{i}" for i in range(6)]
    async with NodeExecutor(max_workers=8) as executor:
        graph = make_graph(chain(), executor)
        results = await run_queued(graph, texts)
        graph.close()
    assert results == [{"out": f"{t}fs.t"} for t in texts]
    assert PROBE.sizes("first") == [1, 5]
    # The 5 went through "second" in the same call and on the thread that led them ...
    assert PROBE.sizes("second") == [1, 5]
    led = [thread for node, texts_, thread in PROBE.calls if node == "first" and len(texts_) == 5]
    carried = [thread for node, texts_, thread in PROBE.calls if node == "second" and len(texts_) == 5]
    assert led == carried
    # ... and each went on alone at the per-run node, on its own thread.
    assert PROBE.sizes("per_run") == [1] * 6
    assert len({thread for node, _, thread in PROBE.calls if node == "per_run"}) == 6
    assert sum(PROBE.sizes("third")) == 6
    # What `Graph.stats()` (and the ovserve_node_batch_runs metric) reports: calls by runs.
    calls = graph.stats().node_batches
    assert set(calls) == {"first", "second", "third"}
    assert calls["first"] == calls["second"] == {1: 1, 5: 1}
    assert sum(runs * n for runs, n in calls["third"].items()) == 6


async def test_a_run_that_breaks_a_batch_call_fails_alone_and_the_others_are_served() -> None:
    texts = ["t0", "t1", "bad2", "t3", "t4"]
    async with NodeExecutor(max_workers=8) as executor:
        graph = make_graph(chain(), executor)
        results = await run_queued(graph, texts)
        graph.close()
    failed = results[2]
    assert isinstance(failed, InvalidArgument)
    assert failed.message == "Calculator::Process() for node \"first\" failed: cannot mark 'bad2'"
    assert [r for i, r in enumerate(results) if i != 2] == [{"out": f"{t}fs.t"} for t in texts if t != "bad2"]
    # The merged call of the 4 queued runs raised; each of them was then run alone.
    assert PROBE.sizes("first") == [1, 4, 1, 1, 1, 1]
    assert graph.stats().node_batches["first"] == {1: 5, 4: 1}  # the retries alone count too
    assert sorted(PROBE.sizes("second")) == [1, 3]  # the survivors were carried on together


async def test_a_gate_takes_at_most_max_runs_at_a_time() -> None:
    texts = [f"t{i}" for i in range(6)]
    async with NodeExecutor(max_workers=8) as executor:
        graph = make_graph(chain(first="first2"), executor)
        results = await run_queued(graph, texts)
        graph.close()
    assert results == [{"out": f"{t}fs.t"} for t in texts]
    assert PROBE.sizes("first") == [1, 2, 2, 1]


async def test_concurrent_runs_without_a_hold_all_get_their_own_answers() -> None:
    texts = [f"t{i}" for i in range(64)]
    async with NodeExecutor(max_workers=16) as executor:
        graph = make_graph(chain(), executor)
        results = await asyncio.gather(*(graph.run({"in": t}) for t in texts))
        graph.close()
    assert results == [{"out": f"{t}fs.t"} for t in texts]
    assert sum(PROBE.sizes("first")) == sum(PROBE.sizes("second")) == 64


def test_declaring_batches_without_being_a_batch_calculator_is_refused() -> None:
    text = """
input_stream: "TEXT:in"
output_stream: "TEXT:out"
node { name: "wrong" calculator: "UndeclaredBatchCalculator"
       input_stream: "TEXT:in" output_stream: "TEXT:out" }
"""
    with pytest.raises(InternalError, match="declares process_in_batches but is not a BatchCalculator"):
        validate_graph(parse_graph_text(text, "wrong.pbtxt"), registry=BATCH_TOYS)
