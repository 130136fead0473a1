"""A graph that is reliably still LOADING: its load waits until the test opens a gate file.

Importing this module registers `GatedLoadCalculator` in the default registry, which the
server loads graphs with. Its node option (a `google.protobuf.StringValue`) is the gate's
path; `load` blocks until that file exists, so a test decides when the graph finishes
loading, however slow the machine. A gate never opened fails the load after
`GATE_TIMEOUT_SECONDS` instead of hanging the test run. Per request the node echoes its
payload, so the server's warm-up request passes.
"""

from __future__ import annotations

import time
from pathlib import Path

from google.protobuf.wrappers_pb2 import StringValue

from ovserve.errors import Unavailable
from ovserve.graph import (
    Calculator,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Input,
    Output,
    register_calculator,
)

GATE_TIMEOUT_SECONDS = 120.0
_POLL_SECONDS = 0.01

REQUEST = Input[object]("REQUEST_PAYLOAD")
RESPONSE = Output[object]("RESPONSE_PAYLOAD")


@register_calculator
class GatedLoadCalculator(Calculator):
    """REQUEST_PAYLOAD → RESPONSE_PAYLOAD unchanged, once the gate file of its option exists."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(REQUEST, RESPONSE)
        cc.set_options(StringValue, required=True)

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        gate = Path(lc.options(StringValue).value)
        deadline = time.monotonic() + GATE_TIMEOUT_SECONDS
        while not gate.exists():
            if time.monotonic() > deadline:
                raise Unavailable(f"gate {gate} was not opened within {GATE_TIMEOUT_SECONDS:g} s")
            time.sleep(_POLL_SECONDS)

    def process(self, ctx: CalculatorContext) -> None:
        ctx.set(RESPONSE, ctx.get(REQUEST))


def write_gated_graph(directory: Path, gate: Path) -> None:
    """`directory/graph.pbtxt`: one `GatedLoadCalculator` node waiting for `gate`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "graph.pbtxt").write_text(
        'input_stream: "REQUEST_PAYLOAD:input"\n'
        'output_stream: "RESPONSE_PAYLOAD:output"\n'
        "node {\n"
        '  name: "Gated"\n'
        '  calculator: "GatedLoadCalculator"\n'
        '  input_stream: "REQUEST_PAYLOAD:input"\n'
        '  output_stream: "RESPONSE_PAYLOAD:output"\n'
        f'  node_options: {{ [type.googleapis.com/google.protobuf.StringValue]: {{ value: "{gate}" }} }}\n'
        "}\n"
    )
