"""Running graphs: order, concurrency, errors naming the node, no poisoned state, close."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from pathlib import Path

import pytest

from ovserve.errors import ErrorCode, InternalError, InvalidArgument, Unavailable
from ovserve.graph import Graph, GraphLoadContext, NodeExecutor, load_graph, parse_graph_text, validate_graph
from ovserve.graph.resources import NoModels
from tests.graph.test_validation import Source, write_ovms_graph
from tests.graph.toy_calculators import TOYS, CheckCalculator, ModelDirCalculator

CHAIN = """
input_stream: "TEXT:in"
output_stream: "TEXT:out"
input_side_packet: "PREFIX:prefix"
node { calculator: "UpperCalculator" input_stream: "TEXT:in" output_stream: "TEXT:up"
       input_side_packet: "PREFIX:prefix" }
node { name: "checker" calculator: "CheckCalculator" input_stream: "TEXT:up" output_stream: "TEXT:checked"
       node_options: { [type.googleapis.com/google.protobuf.Int32Value]: { value: 50 } } }
node { calculator: "SuffixCalculator" input_stream: "TEXT:checked" output_stream: "TEXT:out"
       node_options: { [type.googleapis.com/google.protobuf.StringValue]: { value: "!" } } }
"""


def make_graph(executor: NodeExecutor | None = None) -> Graph:
    validated = validate_graph(parse_graph_text(CHAIN, "chain.pbtxt"), registry=TOYS)
    return Graph(
        validated, name="chain", resolver=NoModels(), executor=executor, side_packets={"prefix": ">"}
    )


async def test_run_goes_through_every_node_in_order() -> None:
    async with make_graph() as graph:
        assert await graph.run({"in": "abc"}) == {"out": ">ABC!"}
        assert graph.input_streams == ("TEXT:in",)
        assert graph.output_streams == ("TEXT:out",)


async def test_concurrent_runs_overlap_and_share_no_state() -> None:
    async with NodeExecutor(max_workers=4) as executor:
        graph = make_graph(executor)
        texts = [f"t{i}" for i in range(16)]
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = await asyncio.gather(*(graph.run({"in": t}) for t in texts))
        elapsed = loop.time() - start
        graph.close()
    assert [r["out"] for r in results] == [f">{t.upper()}!" for t in texts]
    # 16 runs sleeping 50 ms each on 4 threads: about 200 ms; serial would be 800 ms.
    assert elapsed < 0.5


async def test_run_then_finishes_on_the_worker_thread_and_passes_its_errors_through() -> None:
    async with make_graph() as graph:

        def finish(outputs: dict[str, object]) -> tuple[object, str]:
            return outputs["out"], threading.current_thread().name

        out, thread = await graph.run_then({"in": "abc"}, finish)
        assert out == ">ABC!"
        assert thread != threading.current_thread().name  # not the event loop's thread

        def refuse(outputs: dict[str, object]) -> None:
            raise InvalidArgument("the caller's own check")

        with pytest.raises(InvalidArgument) as raised:
            await graph.run_then({"in": "abc"}, refuse)
        assert raised.value.message == "the caller's own check"  # no node wrapper added


async def test_invalid_argument_keeps_code_and_names_the_node() -> None:
    async with make_graph() as graph:
        with pytest.raises(InvalidArgument) as info:
            await graph.run({"in": "BAD"})
    assert info.value.code is ErrorCode.INVALID_ARGUMENT
    assert info.value.message == (
        'Calculator::Process() for node "checker" failed: Input length 9 longer than allowed 8'
    )
    assert isinstance(info.value.__cause__, InvalidArgument)


async def test_unexpected_exception_becomes_internal_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async with make_graph() as graph:
        with caplog.at_level(logging.ERROR), pytest.raises(InternalError) as info:
            await graph.run({"in": "boom"})
    assert info.value.message == 'Calculator::Process() for node "checker" failed: internal error'
    assert "secret detail" not in info.value.message
    assert any(r.exc_info and "secret detail" in str(r.exc_info[1]) for r in caplog.records)


async def test_failed_run_leaves_no_poisoned_state() -> None:
    closes_before = CheckCalculator.closes
    async with make_graph() as graph:
        outcomes = await asyncio.gather(
            *(graph.run({"in": t}) for t in ["ok", "bad", "fine", "boom", "good"]), return_exceptions=True
        )
        assert [o["out"] if isinstance(o, dict) else type(o).__name__ for o in outcomes] == [
            ">OK!",
            "InvalidArgument",
            ">FINE!",
            "InternalError",
            ">GOOD!",
        ]
        assert await graph.run({"in": "again"}) == {"out": ">AGAIN!"}
    # close() ran for every opened instance, failed ones included.
    assert CheckCalculator.closes - closes_before == 6


async def test_wrong_inputs_are_invalid_argument() -> None:
    async with make_graph() as graph:
        with pytest.raises(InvalidArgument, match=r"takes input streams \['in'\], got \['other'\]"):
            await graph.run({"other": "x"})


async def test_closed_graph_refuses_runs() -> None:
    graph = make_graph()
    await graph.aclose()
    with pytest.raises(Unavailable, match="is closed"):
        graph.run_sync({"in": "x"})
    graph.close()  # idempotent


async def test_contextvars_reach_the_worker_thread() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("request-42")
    async with NodeExecutor(max_workers=1) as executor:
        seen = await executor.run(lambda: (var.get(), threading.current_thread().name))
    assert seen[0] == "request-42"
    assert seen[1].startswith("ovserve-graph")


async def test_executor_after_shutdown_is_unavailable() -> None:
    executor = NodeExecutor(max_workers=1)
    executor.shutdown()
    with pytest.raises(Unavailable):
        await executor.run(int)


async def test_side_packets_load_once_per_graph_definition(tmp_path: Path) -> None:
    graph_path = write_ovms_graph(tmp_path, "./")
    (tmp_path / "openvino_model.xml").write_text("<net/>")
    loads_before = ModelDirCalculator.loads
    async with load_graph(Source("emb", graph_path, tmp_path), registry=TOYS) as graph:
        results = await asyncio.gather(*(graph.run({"input": i}) for i in range(5)))
    assert ModelDirCalculator.loads - loads_before == 1
    assert [r["output"] for r in results] == [(str(tmp_path / "."), i) for i in range(5)]


def test_release_callbacks_run_on_close_and_after_failed_load(tmp_path: Path) -> None:
    released: list[str] = []
    from tests.graph import toy_calculators

    class Releasing(toy_calculators.ModelDirCalculator):
        @classmethod
        def load(cls, lc: GraphLoadContext) -> None:
            lc.on_close(lambda: released.append(lc.node_name))
            super().load(lc)

    registry = TOYS.copy()
    registry.register(Releasing, name="ModelDirCalculator_R")
    text = (
        'node { name: "a" calculator: "ModelDirCalculator_R" output_side_packet: "MODEL_DIR:a"\n'
        "node_options: { [type.googleapis.com/mediapipe.EmbeddingsCalculatorOVOptions]:\n"
        "{ models_path: 'm' } } }\n"
    )
    validated = validate_graph(parse_graph_text(text, tmp_path / "g.pbtxt"), registry=registry)
    with pytest.raises(Exception, match="does not exist"):
        Graph(validated, name="g", resolver=NoModels())
    assert released == ["a"]
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "openvino_model.xml").write_text("<net/>")
    Graph(validated, name="g", resolver=NoModels()).close()
    assert released == ["a", "a"]
