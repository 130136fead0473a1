"""Empty streams (MediaPipe semantics): nodes with no input packet are skipped, branches merge."""

from __future__ import annotations

import pytest

from ovserve.errors import InternalError
from ovserve.graph import (
    Calculator,
    CalculatorContext,
    CalculatorContract,
    CalculatorRegistry,
    Graph,
    Input,
    Output,
    parse_graph_text,
    register_calculator,
    validate_graph,
)
from ovserve.graph.resources import NoModels

REGISTRY = CalculatorRegistry()
TEXT_IN = Input[str]("TEXT")
TEXT_OUT = Output[str]("TEXT")
LEFT_IN = Input[str]("LEFT", optional=True)
RIGHT_IN = Input[str]("RIGHT", optional=True)
LEFT_OUT = Output[str]("LEFT", optional=True)
RIGHT_OUT = Output[str]("RIGHT", optional=True)
RUNS: list[str] = []


@register_calculator(registry=REGISTRY)
class RouteCalculator(Calculator):
    """TEXT → LEFT when it starts with "l", else RIGHT; nothing at all for "drop"."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, LEFT_OUT, RIGHT_OUT)

    def process(self, ctx: CalculatorContext) -> None:
        text = ctx.get(TEXT_IN)
        if text == "drop":
            return
        port = LEFT_OUT if text.startswith("l") else RIGHT_OUT
        if not ctx.emits(port):
            raise InternalError(f"{port.tag} is not connected")
        ctx.set(port, text)


@register_calculator(registry=REGISTRY)
class MarkCalculator(Calculator):
    """TEXT → TEXT + "*", recording that it ran."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT)

    def process(self, ctx: CalculatorContext) -> None:
        RUNS.append(ctx.node_name)
        ctx.set(TEXT_OUT, ctx.get(TEXT_IN) + "*")


@register_calculator(registry=REGISTRY)
class MergeCalculator(Calculator):
    """Whichever of LEFT / RIGHT has a packet → TEXT."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(LEFT_IN, RIGHT_IN, TEXT_OUT)

    def process(self, ctx: CalculatorContext) -> None:
        ctx.set(TEXT_OUT, ctx.get(LEFT_IN) if ctx.has(LEFT_IN) else "R:" + ctx.get(RIGHT_IN))


@register_calculator(registry=REGISTRY)
class BothCalculator(Calculator):
    """Needs LEFT and RIGHT (declared required): reads both without checking."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(Input[str]("LEFT"), Input[str]("RIGHT"), TEXT_OUT)

    def process(self, ctx: CalculatorContext) -> None:
        ctx.set(TEXT_OUT, ctx.get(Input[str]("LEFT")) + ctx.get(Input[str]("RIGHT")))


BRANCHES = """
input_stream: "TEXT:in"
output_stream: "TEXT:out"
node { calculator: "RouteCalculator" input_stream: "TEXT:in"
       output_stream: "LEFT:left" output_stream: "RIGHT:right" }
node { name: "left_mark" calculator: "MarkCalculator"
       input_stream: "TEXT:left" output_stream: "TEXT:left2" }
node { name: "right_mark" calculator: "MarkCalculator"
       input_stream: "TEXT:right" output_stream: "TEXT:right2" }
node { calculator: "MergeCalculator" input_stream: "LEFT:left2" input_stream: "RIGHT:right2"
       output_stream: "TEXT:out" }
"""
LEFT_ONLY = """
input_stream: "TEXT:in"
output_stream: "TEXT:out"
node { calculator: "RouteCalculator" input_stream: "TEXT:in" output_stream: "LEFT:left" }
node { calculator: "MergeCalculator" input_stream: "LEFT:left" output_stream: "TEXT:out" }
"""


def make_graph(text: str) -> Graph:
    validated = validate_graph(parse_graph_text(text, "branches.pbtxt"), registry=REGISTRY)
    return Graph(validated, name="branches", resolver=NoModels())


def test_only_the_branch_that_got_a_packet_runs() -> None:
    graph = make_graph(BRANCHES)
    try:
        RUNS.clear()
        assert graph.run_sync({"in": "left"}) == {"out": "left*"}
        assert RUNS == ["left_mark"]
        RUNS.clear()
        assert graph.run_sync({"in": "right"}) == {"out": "R:right*"}
        assert RUNS == ["right_mark"]
    finally:
        graph.close()


def test_a_run_that_reaches_no_output_is_an_internal_error() -> None:
    graph = make_graph(BRANCHES)
    try:
        with pytest.raises(InternalError, match="no packet on any output stream"):
            graph.run_sync({"in": "drop"})
    finally:
        graph.close()


def test_reading_an_empty_required_input_names_it() -> None:
    text = BRANCHES.replace('calculator: "MergeCalculator"', 'calculator: "BothCalculator"')
    graph = make_graph(text)
    try:
        with pytest.raises(InternalError, match="input RIGHT has no packet in this run"):
            graph.run_sync({"in": "left"})
    finally:
        graph.close()


def test_emits_tells_whether_an_optional_output_is_connected() -> None:
    graph = make_graph(LEFT_ONLY)
    try:
        assert graph.run_sync({"in": "left"}) == {"out": "left"}
        with pytest.raises(InternalError, match="RIGHT is not connected"):
            graph.run_sync({"in": "right"})
    finally:
        graph.close()
