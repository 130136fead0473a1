"""RerankCalculatorOV: OVMS's current rerank calculator (2025.1+), served by expansion.

Example config (as `export_model.py rerank_ov` writes it):
    node {
      name: "RerankExecutor"
      input_side_packet: "RERANK_NODE_RESOURCES:rerank_servable"
      calculator: "RerankCalculatorOV"
      input_stream: "REQUEST_PAYLOAD:input"
      output_stream: "RESPONSE_PAYLOAD:output"
      node_options: {
        [type.googleapis.com / mediapipe.RerankCalculatorOVOptions]: {
          models_path: "./",
          plugin_config: '{"NUM_STREAMS": "1" }',
          target_device: "CPU"
        }
      }
    }

A `Subgraph`: the node becomes an `EmbeddingsServableCalculator` resource node (it loads
`<models_path>/openvino_model.xml` and `openvino_tokenizer.xml` once per graph definition; a
relative `models_path` is relative to the graph's base path) plus the native rerank chain
(`calculators.rerank_chain`). In OVMS the server injects `RERANK_NODE_RESOURCES`; here the
expansion makes the resources, so that side packet is accepted and needs no producer. Options:
`max_allowed_chunks` (default 10000: most documents per request), `max_position_embeddings` or
`max_length` (the longest pair; unset: what the model records), `target_device` (empty → CPU),
`plugin_config` (JSON).
"""

from __future__ import annotations

from calculators.embeddings_chain import make_node, port_name
from calculators.rerank_chain import RerankSpec, rerank_chain
from ovserve._proto.ovms.rerank.rerank_calculator_ov_pb2 import RerankCalculatorOVOptions
from ovserve._proto.ovserve.calculators.embeddings_servable_calculator_pb2 import (
    EmbeddingsServableCalculatorOptions,
)
from ovserve.errors import ConfigError
from ovserve.graph import (
    CalculatorContract,
    ExpandContext,
    Input,
    InputSidePacket,
    NodeConfig,
    Output,
    Subgraph,
    register_calculator,
)

RESOURCES = InputSidePacket[object]("RERANK_NODE_RESOURCES", optional=True)
REQUEST = Input[object]("REQUEST_PAYLOAD")
RESPONSE = Output[object]("RESPONSE_PAYLOAD")


@register_calculator
class RerankCalculatorOV(Subgraph):
    """Expands OVMS's `rerank_ov` node into a servable node plus the native chain."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(RESOURCES, REQUEST, RESPONSE)
        cc.set_options(RerankCalculatorOVOptions, required=True)

    @classmethod
    def expand(cls, node: NodeConfig, ec: ExpandContext) -> list[NodeConfig]:
        where = ec.node_name
        if not node.name:
            # OVMS refuses such a node too: its resources are keyed by node name.
            raise ConfigError(f"{where}: a RerankCalculatorOV node needs a name")
        options = ec.options(RerankCalculatorOVOptions)
        if not options.models_path:
            raise ConfigError(f"{where}: models_path is required")
        both = options.HasField("max_length") and options.HasField("max_position_embeddings")
        if both and options.max_length != options.max_position_embeddings:
            raise ConfigError(f"{where}: max_length and max_position_embeddings disagree")
        model, tokenizer = ec.unique_name("model"), ec.unique_name("tokenizer")
        servable = make_node(
            "EmbeddingsServableCalculator",
            side_outputs=[f"MODEL:{model}", f"TOKENIZER:{tokenizer}"],
            options=EmbeddingsServableCalculatorOptions(
                models_path=options.models_path,
                target_device=options.target_device,
                plugin_config=options.plugin_config,
            ),
        )
        max_length = None
        if options.HasField("max_length"):
            max_length = options.max_length
        elif options.HasField("max_position_embeddings"):
            max_length = options.max_position_embeddings
        spec = RerankSpec(
            request_stream=port_name(node.input_stream, REQUEST.tag, where=where),
            response_stream=port_name(node.output_stream, RESPONSE.tag, where=where),
            tokenizer_packet=tokenizer,
            model_packet=model,
            max_documents=options.max_allowed_chunks,
            max_length=max_length,
        )
        return [servable, *rerank_chain(spec, ec)]
