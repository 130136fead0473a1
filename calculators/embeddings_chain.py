"""The native embeddings node chain, built for the OVMS subgraphs' expansions.

request → tokenizer → feature extraction, pooled and normalised at the model's output → response.
`graphs/embeddings/graph.pbtxt` writes out the same steps by hand, with pooling and normalize
as nodes of their own; the vectors are the same, and this chain saves those two nodes and the
copy of the hidden states per request (`calculators.feature_extraction_calculator`). Only
side-packet names and options differ between the graph forms, so both OVMS calculators expand
through `embeddings_chain`. With the `EMBEDDING_CACHE_MIB` graph service above 0, a cache
lookup follows the request node and a cache store precedes the response node
(`calculators.embeddings_cache`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from google.protobuf.message import Message

from ovserve._proto.ovserve.calculators.feature_extraction_calculator_pb2 import (
    FeatureExtractionCalculatorOptions,
)
from ovserve._proto.ovserve.calculators.normalize_calculator_pb2 import NormalizeCalculatorOptions
from ovserve._proto.ovserve.calculators.pooling_calculator_pb2 import PoolingCalculatorOptions
from ovserve._proto.ovserve.calculators.tokenizer_calculator_pb2 import TokenizerCalculatorOptions
from ovserve.errors import ConfigError
from ovserve.graph import EMBEDDING_CACHE_MIB, ExpandContext, NodeConfig


@dataclass(frozen=True, kw_only=True)
class ChainSpec:
    """What varies between graph forms.

    Attributes:
        request_stream / response_stream: the expanded node's own stream names.
        tokenizer_packet / model_packet: side-packet names of the tokenizer and embeddings models.
    """

    request_stream: str
    response_stream: str
    tokenizer_packet: str
    model_packet: str
    tokenizer: TokenizerCalculatorOptions
    pooling: PoolingCalculatorOptions
    normalize: bool


def make_node(
    calculator: str,
    *,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    side_inputs: Sequence[str] = (),
    side_outputs: Sequence[str] = (),
    options: Message | None = None,
) -> NodeConfig:
    """One node, its options packed as a `node_options` Any (the proto3 form)."""
    node = NodeConfig(calculator=calculator)
    node.input_stream.extend(inputs)
    node.output_stream.extend(outputs)
    node.input_side_packet.extend(side_inputs)
    node.output_side_packet.extend(side_outputs)
    if options is not None:
        node.node_options.add().Pack(options)
    return node


def embeddings_chain(spec: ChainSpec, ec: ExpandContext) -> list[NodeConfig]:
    """The four per-request nodes (six with the cache), wired through fresh internal stream names.

    The request node's `TOKENIZE` branch goes to the tokenizer and its `TOKENS` straight to the
    response node, so `/v3/tokenize` works on every OVMS embeddings graph (as in OVMS 2025.4+).
    """
    tokenize, token_lists, documents, ids, mask, types, tokens, vectors = (
        ec.unique_name(hint)
        for hint in (
            "tokenize_request",
            "tokens",
            "documents",
            "input_ids",
            "attention_mask",
            "token_type_ids",
            "prompt_tokens",
            "embeddings",
        )
    )
    model = f"MODEL:{spec.model_packet}"
    cached = ec.service(EMBEDDING_CACHE_MIB) > 0
    if cached:
        requested, cached_rows, cache, merged, counted = (
            ec.unique_name(hint) for hint in ("requested", "cached", "cache", "all_embeddings", "all_tokens")
        )
        cache_nodes = [
            make_node(
                "EmbeddingsCacheLookupCalculator",
                inputs=[f"INPUT:{requested}"],
                outputs=[f"MISSES:{documents}", f"CACHED:{cached_rows}"],
                side_outputs=[f"CACHE:{cache}"],
            ),
            make_node(
                "EmbeddingsCacheStoreCalculator",
                inputs=[f"CACHED:{cached_rows}", f"EMBEDDINGS:{vectors}", f"ATTENTION_MASK:{mask}"],
                outputs=[f"EMBEDDINGS:{merged}", f"PROMPT_TOKENS:{counted}"],
                side_inputs=[f"CACHE:{cache}"],
            ),
        ]
    nodes = [
        make_node(
            "EmbeddingsRequestCalculator",
            inputs=[f"REQUEST_PAYLOAD:{spec.request_stream}"],
            outputs=[f"INPUT:{requested if cached else documents}", f"TOKENIZE:{tokenize}"],
        ),
        make_node(
            "TokenizerCalculator",
            inputs=[f"INPUT:{documents}", f"TOKENIZE:{tokenize}"],
            outputs=[
                f"INPUT_IDS:{ids}",
                f"ATTENTION_MASK:{mask}",
                f"TOKEN_TYPE_IDS:{types}",
                f"PROMPT_TOKENS:{tokens}",
                f"TOKENS:{token_lists}",
            ],
            side_inputs=[f"TOKENIZER:{spec.tokenizer_packet}", model],
            options=spec.tokenizer,
        ),
        make_node(
            "FeatureExtractionCalculator",
            inputs=[f"INPUT_IDS:{ids}", f"ATTENTION_MASK:{mask}", f"TOKEN_TYPE_IDS:{types}"],
            outputs=[f"EMBEDDINGS:{vectors}"],
            side_inputs=[model],
            options=FeatureExtractionCalculatorOptions(
                pooling=spec.pooling, normalize=NormalizeCalculatorOptions(enabled=spec.normalize)
            ),
        ),
        make_node(
            "EmbeddingsResponseCalculator",
            inputs=[
                f"EMBEDDINGS:{merged if cached else vectors}",
                f"PROMPT_TOKENS:{counted if cached else tokens}",
                f"TOKENS:{token_lists}",
            ],
            outputs=[f"RESPONSE_PAYLOAD:{spec.response_stream}"],
        ),
    ]
    if cached:
        nodes.insert(1, cache_nodes[0])
        nodes.insert(len(nodes) - 1, cache_nodes[1])
    return nodes


def port_name(entries: Iterable[str], tag: str, *, where: str) -> str:
    """The stream or side-packet name connected to `tag` in `TAG:name` / `TAG:0:name` entries.

    Raises:
        ConfigError: the tag is not connected.
    """
    for entry in entries:
        parts = entry.split(":")
        if parts[0] == tag and len(parts) in (2, 3):
            return parts[-1]
    raise ConfigError(f"{where}: {tag} is not connected")
