"""Toy calculators for graph-engine tests, registered in a test-local registry (`TOYS`).

Options use protobuf's well-known wrapper types (`google.protobuf.StringValue`) or the OVMS
messages, so the tests need no proto of their own.
"""

from __future__ import annotations

import threading
import time

from google.protobuf.wrappers_pb2 import Int32Value, StringValue

from ovserve._proto.ovms.embeddings.embeddings_calculator_ov_pb2 import EmbeddingsCalculatorOVOptions
from ovserve.errors import ConfigError, InvalidArgument, NotFound
from ovserve.graph import (
    Calculator,
    CalculatorContext,
    CalculatorContract,
    CalculatorRegistry,
    ExpandContext,
    GraphLoadContext,
    Input,
    InputSidePacket,
    NodeConfig,
    Output,
    OutputSidePacket,
    ResourceCalculator,
    Subgraph,
    register_calculator,
)

TOYS = CalculatorRegistry()

TEXT_IN = Input[str]("TEXT")
TEXT_OUT = Output[str]("TEXT")
PREFIX = InputSidePacket[str]("PREFIX", optional=True)
REQUEST = Input[object]("REQUEST_PAYLOAD")
RESPONSE = Output[object]("RESPONSE_PAYLOAD")
MODEL_DIR = OutputSidePacket[str]("MODEL_DIR")


@register_calculator(registry=TOYS)
class UpperCalculator(Calculator):
    """TEXT → upper-cased TEXT, prefixed by the optional PREFIX side packet."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT, PREFIX)

    def process(self, ctx: CalculatorContext) -> None:
        prefix = ctx.side(PREFIX) if ctx.has(PREFIX) else ""
        ctx.set(TEXT_OUT, prefix + ctx.get(TEXT_IN).upper())


@register_calculator(registry=TOYS)
class SuffixCalculator(Calculator):
    """TEXT → TEXT + options.value (StringValue, required)."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT)
        cc.set_options(StringValue, required=True)

    def process(self, ctx: CalculatorContext) -> None:
        ctx.set(TEXT_OUT, ctx.get(TEXT_IN) + ctx.options(StringValue).value)


@register_calculator(registry=TOYS)
class CheckCalculator(Calculator):
    """Fails on purpose: text with "bad" → InvalidArgument, "boom" → RuntimeError; else echoes.

    Keeps per-instance state to prove instances are never shared between runs: `open`
    sets `seen`, `process` asserts it was fresh, and `close` counts closes.
    """

    closes = 0
    lock = threading.Lock()

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TEXT_IN, TEXT_OUT)
        cc.set_options(Int32Value)  # optional: sleep milliseconds

    def open(self, ctx: CalculatorContext) -> None:
        assert not hasattr(self, "seen"), "instance reused"
        self.seen: list[str] = []

    def process(self, ctx: CalculatorContext) -> None:
        text = ctx.get(TEXT_IN)
        self.seen.append(text)
        time.sleep(ctx.options(Int32Value).value / 1000)
        if "bad" in text.lower():
            raise InvalidArgument("Input length 9 longer than allowed 8")
        if "boom" in text.lower():
            raise RuntimeError("secret detail")
        assert self.seen == [text]
        ctx.set(TEXT_OUT, text)

    def close(self, ctx: CalculatorContext) -> None:
        with CheckCalculator.lock:
            CheckCalculator.closes += 1


@register_calculator(registry=TOYS)
class PayloadCalculator(Calculator):
    """REQUEST_PAYLOAD → RESPONSE_PAYLOAD via the model-dir side packet (OVMS-shaped)."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(REQUEST, RESPONSE, InputSidePacket[str]("MODEL_DIR"))

    def process(self, ctx: CalculatorContext) -> None:
        ctx.outputs["RESPONSE_PAYLOAD"] = (ctx.side_packets["MODEL_DIR"], ctx.inputs["REQUEST_PAYLOAD"])


@register_calculator(registry=TOYS)
class ModelDirCalculator(ResourceCalculator):
    """Resource node: checks `<models_path>/openvino_model.xml` exists; emits the directory."""

    loads = 0

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(MODEL_DIR)
        cc.set_options(EmbeddingsCalculatorOVOptions, required=True)

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        cls.loads += 1
        directory = lc.resolve_path(lc.options(EmbeddingsCalculatorOVOptions).models_path)
        if not (directory / "openvino_model.xml").is_file():
            raise NotFound(f"model file {directory / 'openvino_model.xml'} does not exist")
        lc.output_side_packets["MODEL_DIR"] = str(directory)


@register_calculator(registry=TOYS)
class EmbeddingsCalculatorOV(Subgraph):
    """OVMS-shaped node expanded into ModelDirCalculator + PayloadCalculator."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(REQUEST, RESPONSE, InputSidePacket[object]("EMBEDDINGS_NODE_RESOURCES", optional=True))
        cc.set_options(EmbeddingsCalculatorOVOptions, required=True)

    @classmethod
    def expand(cls, node: NodeConfig, ec: ExpandContext) -> list[NodeConfig]:
        options = ec.options(EmbeddingsCalculatorOVOptions)
        if options.pooling == EmbeddingsCalculatorOVOptions.LAST:
            raise ConfigError("LAST pooling is not supported by this toy")
        model_dir = ec.unique_name("model_dir")
        resource = NodeConfig(calculator="ModelDirCalculator", output_side_packet=[f"MODEL_DIR:{model_dir}"])
        resource.node_options.add().Pack(options)
        worker = NodeConfig(
            calculator="PayloadCalculator",
            input_stream=list(node.input_stream),
            output_stream=list(node.output_stream),
            input_side_packet=[f"MODEL_DIR:{model_dir}"],
        )
        return [resource, worker]
