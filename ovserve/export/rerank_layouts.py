"""The files of the two rerank workspace layouts: graph.pbtxt text and subconfig.json.

`versioned` is the tree OVMS's `export_model.py rerank` wrote (before 2026.0): `tokenizer/<v>`
and `rerank/<v>` model directories served as `<name>_tokenizer_model` / `<name>_rerank_model`
through `subconfig.json`, and a graph of two `OpenVINOModelServerSessionCalculator` nodes
feeding `RerankCalculator`. `flat` is the `RerankCalculatorOV` directory `export_model.py
rerank_ov` writes: `openvino_model.xml`, `openvino_tokenizer.xml` and the HF tokenizer files
beside `graph.pbtxt`. Pure text: `ovserve.export.rerank` decides when and where it is written.
"""

from __future__ import annotations

import json
from typing import Any, Final

RERANK_DIR: Final = "rerank"
TOKENIZER_DIR: Final = "tokenizer"
# Copied from the source into a flat directory, if present: config.json (the length limit and
# model type) and the files that make the directory a complete HF tokenizer again.
FLAT_COPIED_FILES: Final = (
    "config.json",
    "tokenizer.json",
    "vocab.txt",
    "merges.txt",
    "sentencepiece.bpe.model",
    "spiece.model",
    "tokenizer.model",
    "added_tokens.json",
)


def tokenizer_servable(graph_name: str) -> str:
    return f"{graph_name}_tokenizer_model"


def rerank_servable(graph_name: str) -> str:
    return f"{graph_name}_rerank_model"


def versioned_graph(graph_name: str) -> str:
    """OVMS's old rerank graph: two session nodes feeding `RerankCalculator`."""
    return f"""\
input_stream: "REQUEST_PAYLOAD:input"
output_stream: "RESPONSE_PAYLOAD:output"
node {{
  calculator: "OpenVINOModelServerSessionCalculator"
  output_side_packet: "SESSION:tokenizer"
  node_options: {{
    [type.googleapis.com / mediapipe.OpenVINOModelServerSessionCalculatorOptions]: {{
      servable_name: {json.dumps(tokenizer_servable(graph_name))}
    }}
  }}
}}
node {{
  calculator: "OpenVINOModelServerSessionCalculator"
  output_side_packet: "SESSION:rerank"
  node_options: {{
    [type.googleapis.com / mediapipe.OpenVINOModelServerSessionCalculatorOptions]: {{
      servable_name: {json.dumps(rerank_servable(graph_name))}
    }}
  }}
}}
node {{
  input_side_packet: "TOKENIZER_SESSION:tokenizer"
  input_side_packet: "RERANK_SESSION:rerank"
  calculator: "RerankCalculator"
  input_stream: "REQUEST_PAYLOAD:input"
  output_stream: "RESPONSE_PAYLOAD:output"
}}
"""


def subconfig(graph_name: str, *, target_device: str, plugin_config: dict[str, str]) -> dict[str, Any]:
    """subconfig.json of the versioned layout: the tokenizer and the rerank model."""
    return {
        "model_config_list": [
            {"config": {"name": tokenizer_servable(graph_name), "base_path": TOKENIZER_DIR}},
            {
                "config": {
                    "name": rerank_servable(graph_name),
                    "base_path": RERANK_DIR,
                    "target_device": target_device,
                    "plugin_config": plugin_config,
                }
            },
        ]
    }


def flat_graph(*, target_device: str, plugin_config: dict[str, str]) -> str:
    """The `RerankCalculatorOV` graph, models in the graph's own directory (as `rerank_ov`)."""
    return f"""\
# OVMS_GRAPH_QUEUE_MAX_SIZE: AUTO
input_stream: "REQUEST_PAYLOAD:input"
output_stream: "RESPONSE_PAYLOAD:output"
node {{
  name: "RerankExecutor"
  input_side_packet: "RERANK_NODE_RESOURCES:rerank_servable"
  calculator: "RerankCalculatorOV"
  input_stream: "REQUEST_PAYLOAD:input"
  output_stream: "RESPONSE_PAYLOAD:output"
  node_options: {{
    [type.googleapis.com / mediapipe.RerankCalculatorOVOptions]: {{
      models_path: "./",
      plugin_config: '{json.dumps(plugin_config)}',
      target_device: {json.dumps(target_device)}
    }}
  }}
}}
"""
