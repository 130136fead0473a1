"""Batching settings of one node: its `BatchingOptions` over the server's defaults.

The server hands its defaults (from its command line) to every graph it loads as the
`BATCHING` graph service; a graph's `FeatureExtractionCalculatorOptions.batching` overrides them
field by field. Reading happens at graph load only, so changed defaults affect graphs loaded
later (a config reload), never a loaded graph.
"""

from __future__ import annotations

from dataclasses import replace

from ovserve._proto.ovserve.calculators.feature_extraction_calculator_pb2 import BatchingOptions
from ovserve.graph import BatchSettings


def resolve(options: BatchingOptions, *, base: BatchSettings, where: str) -> BatchSettings:
    """`base` (the server's defaults) with every field the node sets replaced.

    Raises:
        ConfigError: a resulting limit is zero.
    """
    return replace(
        base,
        enabled=options.enabled if options.HasField("enabled") else base.enabled,
        max_batch_size=options.max_batch_size if options.HasField("max_batch_size") else base.max_batch_size,
        max_batch_tokens=(
            options.max_batch_tokens if options.HasField("max_batch_tokens") else base.max_batch_tokens
        ),
        pad_to_multiple_of=(
            options.pad_to_multiple_of if options.HasField("pad_to_multiple_of") else base.pad_to_multiple_of
        ),
    ).check(where=where)
