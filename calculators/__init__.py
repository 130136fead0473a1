"""Built-in ovserve calculators; importing this package registers them.

Native nodes (one request per run): `EmbeddingsRequestCalculator` → `TokenizerCalculator` →
`FeatureExtractionCalculator` → `PoolingCalculator` → `NormalizeCalculator` →
`EmbeddingsResponseCalculator`, fed by the resource node `EmbeddingsServableCalculator` (a model
directory) or by `OpenVINOModelServerSessionCalculator` (a model of the server's configuration).
OVMS's `EmbeddingsCalculator` and `EmbeddingsCalculatorOV` are subgraphs that expand into these.
Rerank: `RerankRequestCalculator` → `PairTokenizerCalculator` → `SequenceClassificationCalculator`
→ `RelevanceScoreCalculator` → `RerankResponseCalculator`; OVMS's `RerankCalculator` and
`RerankCalculatorOV` expand into these.
The packets between them are the engine's formats (`ovserve.graph.formats`).
"""

from __future__ import annotations

from calculators import (
    embeddings_cache,
    embeddings_calculator,
    embeddings_calculator_ov,
    embeddings_request_calculator,
    embeddings_response_calculator,
    embeddings_servable_calculator,
    feature_extraction_calculator,
    normalize_calculator,
    openvino_model_server_session_calculator,
    pair_tokenizer_calculator,
    pooling_calculator,
    relevance_score_calculator,
    rerank_calculator,
    rerank_calculator_ov,
    rerank_request_calculator,
    rerank_response_calculator,
    sequence_classification_calculator,
    tokenizer_calculator,
)

__all__ = [
    "embeddings_cache",
    "embeddings_calculator",
    "embeddings_calculator_ov",
    "embeddings_request_calculator",
    "embeddings_response_calculator",
    "embeddings_servable_calculator",
    "feature_extraction_calculator",
    "normalize_calculator",
    "openvino_model_server_session_calculator",
    "pair_tokenizer_calculator",
    "pooling_calculator",
    "relevance_score_calculator",
    "rerank_calculator",
    "rerank_calculator_ov",
    "rerank_request_calculator",
    "rerank_response_calculator",
    "sequence_classification_calculator",
    "tokenizer_calculator",
]
