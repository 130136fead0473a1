"""A bounded cache of a graph's vectors: repeated documents skip tokenization and inference.

Two nodes around the tokenizer → model → pooling → normalize chain, sharing one cache through
the side packet `CACHE`:

    node { calculator: "EmbeddingsCacheLookupCalculator"
           input_stream: "INPUT:documents"       output_stream: "MISSES:misses"
           output_stream: "CACHED:cached"        output_side_packet: "CACHE:cache" }
    ... the tokenizer reads INPUT:misses ...
    node { calculator: "EmbeddingsCacheStoreCalculator"
           input_stream: "CACHED:cached"         input_stream: "EMBEDDINGS:vectors"
           input_stream: "ATTENTION_MASK:attention_mask"
           output_stream: "EMBEDDINGS:all"       output_stream: "PROMPT_TOKENS:prompt_tokens"
           input_side_packet: "CACHE:cache" }

The lookup emits the documents the cache does not hold on `MISSES` (nothing when it holds them
all: the chain between is then skipped, MediaPipe-style) and every document's cached vector or
a gap on `CACHED`; the store puts the computed rows into the gaps, in the request's order,
stores them, and counts the request's tokens (each document's attention-mask sum, cached with
its vector). A document is its text (or token ids) and the request's prompt and truncation
options (`TextOptions`); every other option that changes a vector belongs to the graph, whose
cache is its own. The cache lives in the lookup node's load-time state, so a reloaded graph
(a config change, or a model version swap, which reloads the graphs that use the model) starts
empty and never answers with an older model's vectors.

Size: `EMBEDDING_CACHE_MIB` (the server's `--embedding_cache_mib`), least recently used first
out. Counted per entry: the vector's bytes, the text's UTF-8 bytes (8 per token id) and a
fixed 200 bytes of bookkeeping. 0 turns the lookup into a pass-through that stores nothing.
The token limit per request (`--max_tokens_per_request`) counts the documents tokenized.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ovserve.graph import (
    EMBEDDING_CACHE_MIB,
    BatchCalculator,
    CacheCounts,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Input,
    InputSidePacket,
    Output,
    OutputSidePacket,
    register_calculator,
)
from ovserve.graph.formats.arrays import Float32Array, Int64Array
from ovserve.graph.formats.embeddings import EmbeddingsInput
from ovserve.graph.formats.text_options import TextOptions

ENTRY_OVERHEAD_BYTES = 200
"""Bookkeeping per entry (key tuple, dict slot, array header), counted against the size."""

Key = tuple[object, ...]


def document_keys(documents: EmbeddingsInput) -> list[Key]:
    """One key per document: its text or ids and the request's options."""
    options = _options_key(documents.options)
    if documents.is_tokens:
        return [("ids", tuple(ids), *options) for ids in documents.token_ids]
    return [("text", text, *options) for text in documents.texts]


def _options_key(options: TextOptions) -> tuple[object, ...]:
    return (options.prompt_name, options.truncate, options.truncate_prompt_tokens)


class VectorCache:
    """Vectors and token counts by document key, at most `capacity_bytes`; thread-safe."""

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self._entries: collections.OrderedDict[Key, tuple[Float32Array, int, int]] = collections.OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()

    def get(self, key: Key) -> tuple[Float32Array, int] | None:
        """The vector and token count of `key` (most recently used now), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return entry[0], entry[1]

    def put(self, key: Key, vector: Float32Array, tokens: int) -> None:
        """Keep a copy of `vector`; evicts the least recently used entries to make room.
        An entry larger than the whole capacity is not kept."""
        size = vector.nbytes + _key_bytes(key) + ENTRY_OVERHEAD_BYTES
        if size > self.capacity_bytes:
            return
        stored = np.array(vector, dtype=np.float32, copy=True)
        stored.flags.writeable = False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            while self._entries and self._bytes + size > self.capacity_bytes:
                _, (_, _, freed) = self._entries.popitem(last=False)
                self._bytes -= freed
            self._entries[key] = (stored, tokens, size)
            self._bytes += size

    def counts(self) -> CacheCounts:
        with self._lock:
            return CacheCounts(
                hits=self._hits, misses=self._misses, bytes=self._bytes, entries=len(self._entries)
            )


def _key_bytes(key: Key) -> int:
    content = key[1]
    if isinstance(content, str):
        return len(content.encode("utf-8", "surrogatepass"))
    assert isinstance(content, tuple)
    return 8 * len(content)


@dataclass(frozen=True)
class CachedRows:
    """One request's documents as the cache found them.

    Attributes:
        keys: every document's key, in request order.
        vectors: the cached vector of each document, None where it must be computed.
        tokens: the cached token count of each document (0 where computed).
    """

    keys: tuple[Key, ...]
    vectors: tuple[Float32Array | None, ...]
    tokens: tuple[int, ...]

    @property
    def missing(self) -> list[int]:
        return [i for i, vector in enumerate(self.vectors) if vector is None]


class _LookupState:
    """The graph's cache (None when off), shared by all runs; reports its counters."""

    def __init__(self, cache: VectorCache | None) -> None:
        self.cache = cache

    def cache_counts(self) -> CacheCounts:
        return self.cache.counts() if self.cache is not None else CacheCounts()


DOCUMENTS = Input[EmbeddingsInput]("INPUT")
MISSES = Output[EmbeddingsInput]("MISSES")
CACHED = Output[CachedRows]("CACHED")
CACHE_OUT = OutputSidePacket[object]("CACHE")


@register_calculator
class EmbeddingsCacheLookupCalculator(BatchCalculator):
    """Splits each request's documents into cached ones and the ones to embed (see the module).

    Batch-capable (each request on its own) so that a graph with the cache still takes its
    requests at its entry (`ovserve.graph.entry`).
    """

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(DOCUMENTS, MISSES, CACHED, CACHE_OUT)
        cc.process_in_batches()

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        mib = lc.service(EMBEDDING_CACHE_MIB)
        state = _LookupState(VectorCache(mib * 1024 * 1024) if mib > 0 else None)
        lc.node_state = state
        lc.output_side_packets[CACHE_OUT.tag] = state

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        for ctx in contexts:
            _look_up(ctx)


def _look_up(ctx: CalculatorContext) -> None:
    """Set one run's `CACHED` rows and, unless every vector is cached, its `MISSES`."""
    documents = ctx.get(DOCUMENTS)
    state: _LookupState = ctx.node_state
    keys = document_keys(documents)
    found = [state.cache.get(key) for key in keys] if state.cache is not None else [None] * len(keys)
    rows = CachedRows(
        keys=tuple(keys),
        vectors=tuple(hit[0] if hit is not None else None for hit in found),
        tokens=tuple(hit[1] if hit is not None else 0 for hit in found),
    )
    ctx.set(CACHED, rows)
    missing = rows.missing
    if not missing:
        return  # every vector is cached: the chain up to the store node is skipped
    if len(missing) == len(keys):
        ctx.set(MISSES, documents)
    elif documents.is_tokens:
        ctx.set(
            MISSES,
            EmbeddingsInput(
                token_ids=tuple(documents.token_ids[i] for i in missing), options=documents.options
            ),
        )
    else:
        ctx.set(
            MISSES,
            EmbeddingsInput(texts=tuple(documents.texts[i] for i in missing), options=documents.options),
        )


CACHED_IN = Input[CachedRows]("CACHED")
COMPUTED = Input[Float32Array]("EMBEDDINGS", optional=True)
MASK = Input[Int64Array]("ATTENTION_MASK", optional=True)
CACHE_IN = InputSidePacket[object]("CACHE")
VECTORS = Output[Float32Array]("EMBEDDINGS")
PROMPT_TOKENS = Output[int]("PROMPT_TOKENS")


@register_calculator
class EmbeddingsCacheStoreCalculator(BatchCalculator):
    """Merges cached and computed vectors in request order and stores the computed ones
    (batch-capable, each request on its own, as the lookup node)."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(CACHED_IN, COMPUTED, MASK, CACHE_IN, VECTORS, PROMPT_TOKENS)
        cc.process_in_batches()

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        for ctx in contexts:
            _store(ctx)


def _store(ctx: CalculatorContext) -> None:
    """Set one run's `EMBEDDINGS` and `PROMPT_TOKENS`; put its computed vectors in the cache."""
    rows = ctx.get(CACHED_IN)
    state = ctx.side(CACHE_IN)
    assert isinstance(state, _LookupState)
    missing = rows.missing
    computed = np.asarray(ctx.get(COMPUTED), dtype=np.float32) if missing else None
    counts = np.asarray(ctx.get(MASK)).sum(axis=1) if missing else np.zeros(0, dtype=np.int64)
    if computed is not None and computed.shape[0] != len(missing):
        raise RuntimeError(f"{len(missing)} documents to embed, {computed.shape[0]} vectors came back")
    width = (
        computed.shape[1] if computed is not None else next(v for v in rows.vectors if v is not None).shape[0]
    )
    vectors = np.empty((len(rows.keys), width), dtype=np.float32)
    tokens = list(rows.tokens)
    for i, vector in enumerate(rows.vectors):
        if vector is not None:
            vectors[i] = vector
    for row, i in enumerate(missing):
        assert computed is not None
        vectors[i] = computed[row]
        tokens[i] = int(counts[row])
        if state.cache is not None:
            state.cache.put(rows.keys[i], computed[row], tokens[i])
    ctx.set(VECTORS, vectors)
    ctx.set(PROMPT_TOKENS, sum(tokens))
