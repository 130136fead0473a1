"""`ovserve bench`: a cheap asyncio load generator for embeddings servers (REST and gRPC).

In-process use (as `benchmarks/compare.py` does)::

    from ovserve.bench import LoadConfig, batches, run_load, summarize
    result = await run_load(batches(texts, 1), LoadConfig(api_url=url, concurrency=64))
    print(summarize(result).documents_per_second)
"""

from __future__ import annotations

from ovserve.bench.dataset import (
    batches,
    random_length_documents,
    synthetic_documents,
    text_file_documents,
)
from ovserve.bench.load import LoadConfig, LoadResult, run_load
from ovserve.bench.report import Summary, format_summary, summarize
from ovserve.bench.stats import percentile

__all__ = [
    "LoadConfig",
    "LoadResult",
    "Summary",
    "batches",
    "format_summary",
    "percentile",
    "random_length_documents",
    "run_load",
    "summarize",
    "synthetic_documents",
    "text_file_documents",
]
