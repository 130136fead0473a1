"""The rt_info an export writes into its IR files, and how a graph engine should read it.

Both IRs (the embeddings model and the tokenizer) carry one section, `model_info`; read it
with `model.get_rt_info(["model_info", KEY]).astype(str)` (every value is a string).

Embeddings model (`embeddings/<v>/model.xml`, or `openvino_model.xml` in the flat layout):

* every key of the source's HF `config.json`, as OVMS's exporter writes them (the old OVMS
  calculator reads `max_position_embeddings` from here). Values are stringified: strings as
  is, everything else as JSON (`512`, `true`, `["BertModel"]`, `null`).
* the `ovserve_*` keys below (no HF config key starts with `ovserve_`).

Tokenizer (`tokenizer/<v>/model.xml`, or `openvino_tokenizer.xml`): every key of the source's
`tokenizer_config.json` (stringified the same way) plus the same `ovserve_*` keys. The
openvino_tokenizers converter also writes top-level `max_length` and `truncation` keys.

The `ovserve_*` keys (`ovserve_rt_info()` builds them):

`ovserve_export_schema` ("1")
    Version of this key set; bumped when a meaning changes.
`ovserve_max_length` (decimal int, e.g. "256")
    M, the longest input, in tokens including special tokens, that the graph accepts. With
    `ovserve_truncate` false a request whose padded token length N exceeds M must be rejected
    with `Input length N longer than allowed M` (OVMS's text). It is always
    <= `ovserve_max_position_embeddings` when that is set.
`ovserve_truncate` ("true" | "false")
    true: the tokenizer already cuts every input to `ovserve_max_length` tokens (silently).
    false: over-long input is an error; see above.
`ovserve_tokenizer_max_length` (decimal int)
    The cut baked into the tokenizer IR: equals `ovserve_max_length` when truncating,
    otherwise `ovserve_max_position_embeddings` (so no input can ever reach the model longer
    than it supports, whatever the graph does). Consequences for a graph with truncate off:
    the N it sees is at most this value, so report N as measured; and when this value equals
    `ovserve_max_length` (only when the user chose M = the positional limit), an input cut by
    the tokenizer cannot be told apart from one of exactly M tokens and is served truncated.
`ovserve_max_position_embeddings` (decimal int, or "" when the model has no such limit)
    The positional limit from config.json (first of max_position_embeddings, n_positions,
    seq_len, seq_length, n_ctx, sliding_window).
`ovserve_pooling` ("CLS" | "MEAN" | "LAST")
    Pooling over the 3-D `last_hidden_state` output. The versioned (old OVMS) graph has no
    pooling option, so this key is the only place it is recorded for that layout; the flat
    graph also states it in its `pooling:` option (the graph option wins if they differ).
`ovserve_normalize` ("true" | "false")
    L2 normalisation as exported; the graph's `normalize_embeddings` option wins if edited.
`ovserve_weight_format` ("fp32" | "fp16" | "int8" | "int4")
    The weight format the model was exported with.
`ovserve_strip_text` ("true" | "false")
    true: strip leading and trailing whitespace from every text before it is tokenized for
    embedding, as sentence-transformers' `Transformer` module does (written for a source with
    `modules.json`). It changes the tokens of byte-level BPE and SentencePiece tokenizers
    (Qwen3, XLM-R), not WordPiece ones; `/v3/tokenize` keeps the raw text. Absent (OVMS
    exports): false.
`ovserve_prompts` (a JSON object of strings, e.g. '{"query": "query: "}'; "{}" for none)
    The sentence-transformers `prompts` of `config_sentence_transformers.json`: a request's
    `prompt_name` selects one, whose text goes before every input text (then stripped where
    `ovserve_strip_text` says, and tokenized, cut and counted with the text). Written into
    both IRs so that every graph form finds it: the tokenizer node reads the tokenizer IR
    (every form has one), else the embeddings IR. Absent (OVMS exports): no prompts.
`ovserve_default_prompt_name` (a key of `ovserve_prompts`, or "" for none)
    The prompt applied when a request names none, as `SentenceTransformer.encode` does.
`ovserve_inference_precision_hint` ("f32", "bf16", "f16" or "")
    What the export wrote as `INFERENCE_PRECISION_HINT` into plugin_config ("" = none, the
    plugin default). Informational: plugin_config in subconfig.json / graph.pbtxt is authoritative.
"""

from __future__ import annotations

import json
from typing import Any, Final

SECTION: Final = "model_info"
EXPORT_SCHEMA: Final = "1"

KEY_EXPORT_SCHEMA: Final = "ovserve_export_schema"
KEY_MAX_LENGTH: Final = "ovserve_max_length"
KEY_TRUNCATE: Final = "ovserve_truncate"
KEY_TOKENIZER_MAX_LENGTH: Final = "ovserve_tokenizer_max_length"
KEY_MAX_POSITION_EMBEDDINGS: Final = "ovserve_max_position_embeddings"
KEY_POOLING: Final = "ovserve_pooling"
KEY_NORMALIZE: Final = "ovserve_normalize"
KEY_WEIGHT_FORMAT: Final = "ovserve_weight_format"
KEY_INFERENCE_PRECISION_HINT: Final = "ovserve_inference_precision_hint"
KEY_STRIP_TEXT: Final = "ovserve_strip_text"
KEY_PROMPTS: Final = "ovserve_prompts"
KEY_DEFAULT_PROMPT_NAME: Final = "ovserve_default_prompt_name"
KEY_PAIR_TEMPLATE: Final = "ovserve_pair_template"
"""A rerank tokenizer's pair layout, JSON `{"ids": [...], "types": [...]}`: the source tokenizer's
pair encoding with `PAIR_QUERY_SLOT` where the query's tokens go and `PAIR_DOCUMENT_SLOT` where
the document's go, and every position's token type (a slot's type applies to all its tokens)."""
PAIR_QUERY_SLOT: Final = -1
PAIR_DOCUMENT_SLOT: Final = -2


def stringify(value: object) -> str:
    """The rt_info text form of a JSON value: strings unchanged, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def ovserve_rt_info(
    *,
    max_length: int,
    truncate: bool,
    tokenizer_max_length: int,
    max_position_embeddings: int | None,
    pooling: str,
    normalize: bool,
    weight_format: str,
    inference_precision_hint: str | None,
    strip_text: bool,
    prompts: dict[str, str] | None = None,
    default_prompt_name: str | None = None,
) -> dict[str, str]:
    """The `ovserve_*` keys, with values already in their documented string form."""
    return {
        KEY_EXPORT_SCHEMA: EXPORT_SCHEMA,
        KEY_MAX_LENGTH: str(max_length),
        KEY_TRUNCATE: stringify(truncate),
        KEY_TOKENIZER_MAX_LENGTH: str(tokenizer_max_length),
        KEY_MAX_POSITION_EMBEDDINGS: "" if max_position_embeddings is None else str(max_position_embeddings),
        KEY_POOLING: pooling,
        KEY_NORMALIZE: stringify(normalize),
        KEY_WEIGHT_FORMAT: weight_format,
        KEY_INFERENCE_PRECISION_HINT: inference_precision_hint or "",
        KEY_STRIP_TEXT: stringify(strip_text),
        KEY_PROMPTS: json.dumps(prompts or {}, ensure_ascii=False),
        KEY_DEFAULT_PROMPT_NAME: default_prompt_name or "",
    }


def write_model_info(model: Any, source_keys: dict[str, Any], ovserve_keys: dict[str, str]) -> None:
    """Set `model_info/<key>` on an `openvino.Model` for every source key, then the ovserve keys."""
    for key, value in source_keys.items():
        model.set_rt_info(stringify(value), [SECTION, str(key)])
    for key, text in ovserve_keys.items():
        model.set_rt_info(text, [SECTION, key])


def read_model_info(model: Any) -> dict[str, str]:
    """All `model_info` entries of an `openvino.Model` as strings ({} when there is none)."""
    if not model.has_rt_info([SECTION]):
        return {}
    section = model.get_rt_info([SECTION]).value
    return {
        str(key): value.astype(str) if hasattr(value, "astype") else str(value)
        for key, value in section.items()
    }
