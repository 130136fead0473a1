"""The files of the two workspace layouts: graph.pbtxt text, subconfig.json, the flat copy list.

`versioned` is the tree OVMS's `export_model.py embeddings` writes;
`flat` is the `EmbeddingsCalculatorOV` directory of `embeddings_ov`.
Pure text and path logic: `ovserve.export.embeddings` decides when and where it is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

TOKENIZER_DIR: Final = "tokenizer"
EMBEDDINGS_DIR: Final = "embeddings"
VERSIONED_XML: Final = "model.xml"
FLAT_MODEL_XML: Final = "openvino_model.xml"
FLAT_TOKENIZER_XML: Final = "openvino_tokenizer.xml"
# The detokenizer (TEI /tokenize, /decode): beside the flat files; in a subfolder of the
# tokenizer's version folder, which OVMS's model loader does not read (`calculators.ov_detokenizer`).
DETOKENIZER_XML: Final = "openvino_detokenizer.xml"
VERSIONED_DETOKENIZER_DIR: Final = "detokenizer"
GRAPH_FILE: Final = "graph.pbtxt"
SUBCONFIG_FILE: Final = "subconfig.json"
# Copied from the source into a flat directory, if present: what OVMS's calculator reads
# (config.json for the length limit, 1_Pooling for pooling auto-detection) plus the
# tokenizer files that make the directory a complete HF tokenizer again.
FLAT_COPIED_FILES: Final = (
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "vocab.txt",
    "merges.txt",
    "sentencepiece.bpe.model",
    "spiece.model",
    "tokenizer.model",
    "added_tokens.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)


def detokenizer_path(tokenizer_folder: Path, layout: str) -> Path:
    """Where the detokenizer goes for a tokenizer written into `tokenizer_folder`."""
    if layout == "flat":
        return tokenizer_folder / DETOKENIZER_XML
    return tokenizer_folder / VERSIONED_DETOKENIZER_DIR / DETOKENIZER_XML


def tokenizer_servable(graph_name: str) -> str:
    return f"{graph_name}_tokenizer_model"


def embeddings_servable(graph_name: str) -> str:
    return f"{graph_name}_embeddings_model"


def versioned_graph(graph_name: str, *, normalize: bool) -> str:
    """The old OVMS embeddings graph: two session nodes feeding `EmbeddingsCalculator`."""
    return f"""\
input_stream: "REQUEST_PAYLOAD:input"
output_stream: "RESPONSE_PAYLOAD:output"
node {{
  calculator: "OpenVINOModelServerSessionCalculator"
  output_side_packet: "SESSION:tokenizer"
  node_options: {{
    [type.googleapis.com / mediapipe.OpenVINOModelServerSessionCalculatorOptions]: {{
      servable_name: {_quote(tokenizer_servable(graph_name))}
    }}
  }}
}}
node {{
  calculator: "OpenVINOModelServerSessionCalculator"
  output_side_packet: "SESSION:embeddings"
  node_options: {{
    [type.googleapis.com / mediapipe.OpenVINOModelServerSessionCalculatorOptions]: {{
      servable_name: {_quote(embeddings_servable(graph_name))}
    }}
  }}
}}
node {{
  input_side_packet: "TOKENIZER_SESSION:tokenizer"
  input_side_packet: "EMBEDDINGS_SESSION:embeddings"
  calculator: "EmbeddingsCalculator"
  input_stream: "REQUEST_PAYLOAD:input"
  output_stream: "RESPONSE_PAYLOAD:output"
  node_options: {{
    [type.googleapis.com / mediapipe.EmbeddingsCalculatorOptions]: {{
      normalize_embeddings: {_bool(normalize)},
    }}
  }}
}}
"""


def subconfig(graph_name: str, *, target_device: str, plugin_config: dict[str, str]) -> dict[str, Any]:
    """subconfig.json: the tokenizer and the embeddings model, versions under their dirs."""
    return {
        "model_config_list": [
            {"config": {"name": tokenizer_servable(graph_name), "base_path": TOKENIZER_DIR}},
            {
                "config": {
                    "name": embeddings_servable(graph_name),
                    "base_path": EMBEDDINGS_DIR,
                    "target_device": target_device,
                    "plugin_config": plugin_config,
                }
            },
        ]
    }


def flat_graph(
    *, normalize: bool, pooling: str, truncate: bool, target_device: str, plugin_config: dict[str, str]
) -> str:
    """The `EmbeddingsCalculatorOV` graph, models in the graph's own directory."""
    options = [
        'models_path: "./"',
        # Single quotes as OVMS writes it: the JSON inside then needs no escaping.
        f"plugin_config: '{json.dumps(plugin_config)}'",
        f"normalize_embeddings: {_bool(normalize)}",
        f"pooling: {pooling}",
        f"truncate: {_bool(truncate)}",
        f"target_device: {_quote(target_device)}",
    ]
    option_lines = "".join(f"      {line},\n" for line in options)
    return f"""\
# OVMS_GRAPH_QUEUE_MAX_SIZE: AUTO
input_stream: "REQUEST_PAYLOAD:input"
output_stream: "RESPONSE_PAYLOAD:output"
node {{
  name: "EmbeddingsExecutor"
  input_side_packet: "EMBEDDINGS_NODE_RESOURCES:embeddings_servable"
  calculator: "EmbeddingsCalculatorOV"
  input_stream: "REQUEST_PAYLOAD:input"
  output_stream: "RESPONSE_PAYLOAD:output"
  node_options: {{
    [type.googleapis.com / mediapipe.EmbeddingsCalculatorOVOptions]: {{
{option_lines}    }}
  }}
}}
"""


def json_text(data: object) -> str:
    return json.dumps(data, indent=4) + "\n"


def _quote(text: str) -> str:
    # JSON string escaping is a subset of protobuf text-format escaping for these inputs.
    return json.dumps(text)


def _bool(value: bool) -> str:
    return "true" if value else "false"
