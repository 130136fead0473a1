"""EmbeddingsCalculatorOV: OVMS's current embeddings calculator (2025.2+), served by expansion.

Example config (as `export_model.py embeddings_ov` writes it):
    node {
      name: "EmbeddingsExecutor"
      input_side_packet: "EMBEDDINGS_NODE_RESOURCES:embeddings_servable"
      calculator: "EmbeddingsCalculatorOV"
      input_stream: "REQUEST_PAYLOAD:input"
      output_stream: "RESPONSE_PAYLOAD:output"
      node_options: {
        [type.googleapis.com / mediapipe.EmbeddingsCalculatorOVOptions]: {
          models_path: "./",
          plugin_config: '{"NUM_STREAMS": "1" }',
          normalize_embeddings: true,
          pooling: CLS,
          truncate: true,
          target_device: "CPU",
        }
      }
    }

A `Subgraph`: the node becomes an `EmbeddingsServableCalculator` resource node (loading
`<models_path>/openvino_model.xml` and `openvino_tokenizer.xml` once per graph definition; a
relative `models_path` is relative to the graph's base path) plus the native per-request chain.
In OVMS the server injects `EMBEDDINGS_NODE_RESOURCES`; here the expansion makes the resources,
so that side packet is accepted and needs no producer. Options:

* `pooling` CLS / MEAN / LAST; unset → `1_Pooling/config.json` (or ovserve's rt_info), else CLS.
* `truncate` (default false): cut to M, or reject N > M with `Input length N longer than allowed M`.
  M is ovserve's recorded max length, else the first positional limit in `config.json`, else 1024.
* `normalize_embeddings` (default true), `target_device` (empty → CPU), `plugin_config` (JSON).
"""

from __future__ import annotations

from calculators.embeddings_chain import ChainSpec, embeddings_chain, make_node, port_name
from ovserve._proto.ovms.embeddings.embeddings_calculator_ov_pb2 import EmbeddingsCalculatorOVOptions
from ovserve._proto.ovserve.calculators.embeddings_servable_calculator_pb2 import (
    EmbeddingsServableCalculatorOptions,
)
from ovserve._proto.ovserve.calculators.pooling_calculator_pb2 import PoolingCalculatorOptions
from ovserve._proto.ovserve.calculators.tokenizer_calculator_pb2 import TokenizerCalculatorOptions
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

RESOURCES = InputSidePacket[object]("EMBEDDINGS_NODE_RESOURCES", optional=True)
REQUEST = Input[object]("REQUEST_PAYLOAD")
RESPONSE = Output[object]("RESPONSE_PAYLOAD")
_POOLING = {
    EmbeddingsCalculatorOVOptions.CLS: PoolingCalculatorOptions.CLS,
    EmbeddingsCalculatorOVOptions.MEAN: PoolingCalculatorOptions.MEAN,
    EmbeddingsCalculatorOVOptions.LAST: PoolingCalculatorOptions.LAST,
}


@register_calculator
class EmbeddingsCalculatorOV(Subgraph):
    """Expands OVMS's `embeddings_ov` node into a servable node plus the native chain."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(RESOURCES, REQUEST, RESPONSE)
        cc.set_options(EmbeddingsCalculatorOVOptions, required=True)

    @classmethod
    def expand(cls, node: NodeConfig, ec: ExpandContext) -> list[NodeConfig]:
        where = ec.node_name
        if not node.name:
            # OVMS refuses such a node too: its resources are keyed by node name.
            raise ConfigError(f"{where}: an EmbeddingsCalculatorOV node needs a name")
        options = ec.options(EmbeddingsCalculatorOVOptions)
        if not options.models_path:
            raise ConfigError(f"{where}: models_path is required")
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
        pooling = PoolingCalculatorOptions(
            mode=PoolingCalculatorOptions.AUTO, fallback=PoolingCalculatorOptions.CLS
        )
        if options.HasField("pooling"):
            pooling.mode = _POOLING[options.pooling]
        spec = ChainSpec(
            request_stream=port_name(node.input_stream, REQUEST.tag, where=where),
            response_stream=port_name(node.output_stream, RESPONSE.tag, where=where),
            tokenizer_packet=tokenizer,
            model_packet=model,
            tokenizer=TokenizerCalculatorOptions(truncate=options.truncate),
            pooling=pooling,
            normalize=options.normalize_embeddings,
        )
        return [servable, *embeddings_chain(spec, ec)]
