"""A user calculator: prepends an instruction to every text (E5-style "query: " prompts).

Example config:
    node {
      calculator: "PrefixTextsCalculator"
      input_stream: "TEXTS:texts"
      output_stream: "TEXTS:prefixed"
      node_options: { [type.googleapis.com/google.protobuf.StringValue]: { value: "query: " } }
    }

Load it with `import_calculator_modules(["examples/custom_calculator/prefix_calculator.py"])`
(or its dotted name when it is importable); importing registers it. The options message
here is protobuf's well-known `StringValue`, so the example needs no generated code; a real
calculator defines its own options message in a `.proto` next to it.
"""

from __future__ import annotations

from google.protobuf.wrappers_pb2 import StringValue

from ovserve.errors import InvalidArgument
from ovserve.graph import (
    Calculator,
    CalculatorContext,
    CalculatorContract,
    Input,
    Output,
    register_calculator,
)

TEXTS_IN = Input[list[str]]("TEXTS")
TEXTS_OUT = Output[list[str]]("TEXTS")


@register_calculator
class PrefixTextsCalculator(Calculator):
    """TEXTS → TEXTS with the option's prefix in front of each; runs on a worker thread."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXTS_IN, TEXTS_OUT)
        cc.set_options(StringValue, required=True)

    def process(self, ctx: CalculatorContext) -> None:
        texts = ctx.get(TEXTS_IN)
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise InvalidArgument("TEXTS must be a list of strings")
        prefix = ctx.options(StringValue).value
        ctx.set(TEXTS_OUT, [prefix + t for t in texts])
