"""OpenVINOModelServerSessionCalculator: a model of the server's configuration as a side packet (OVMS).

Example config (the old OVMS embeddings graph, as `export_model.py embeddings` writes it):
    node {
      calculator: "OpenVINOModelServerSessionCalculator"
      output_side_packet: "SESSION:tokenizer"
      node_options: {
        [type.googleapis.com / mediapipe.OpenVINOModelServerSessionCalculatorOptions]: {
          servable_name: "my_model_tokenizer_model"
          servable_version: "1"
        }
      }
    }

A resource node: at graph load it resolves `servable_name` / `servable_version` (empty: the
highest available version) through the server's `ModelResolver`, i.e. a model listed in
`config.json` or the graph's `subconfig.json`, already compiled with that entry's
`target_device` and `plugin_config`. Remote sessions (`service_url`) are not supported.
"""

from __future__ import annotations

from ovserve._proto.mediapipe.calculators.ovms.openvinomodelserversessioncalculator_pb2 import (
    OpenVINOModelServerSessionCalculatorOptions,
)
from ovserve.errors import ConfigError
from ovserve.graph import (
    CalculatorContract,
    GraphLoadContext,
    LoadedModel,
    OutputSidePacket,
    ResourceCalculator,
    register_calculator,
)

SESSION = OutputSidePacket[LoadedModel]("SESSION")


@register_calculator
class OpenVINOModelServerSessionCalculator(ResourceCalculator):
    """Lends one configured model to the graph."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(SESSION)
        cc.set_options(OpenVINOModelServerSessionCalculatorOptions, required=True)

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        options = lc.options(OpenVINOModelServerSessionCalculatorOptions)
        if not options.servable_name:
            raise ConfigError(f"{lc.node_name}: servable_name is required")
        if options.service_url:
            raise ConfigError(f"{lc.node_name}: remote sessions (service_url) are not supported")
        version: int | None = None
        if options.servable_version:
            if not options.servable_version.isdigit() or int(options.servable_version) < 1:
                raise ConfigError(
                    f"{lc.node_name}: servable_version {options.servable_version!r} is not a positive integer"
                )
            version = int(options.servable_version)
        lc.output_side_packets[SESSION.tag] = lc.resolver.resolve(options.servable_name, version)
