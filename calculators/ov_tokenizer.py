"""Running an openvino-tokenizers model, with the truncation length chosen when the graph loads.

openvino_tokenizers fixes the cut when the tokenizer is converted: its `Truncate` operation takes
the maximum number of content tokens from a `Select` between a converted-in length and "no limit",
driven by a `truncation` state variable. `set_truncation` rewrites both branches of that `Select`
to one constant, so the same IR can cut at the workspace's M (truncate on) or not at all (truncate
off, so that the length check sees the real N). Special tokens are added after the cut, exactly as
the Hugging Face tokenizer does (`[CLS] ... [SEP]` survive), which is why the content limit is M
minus the number of special tokens the tokenizer adds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ovserve.errors import ConfigError
from ovserve.graph.coalesce import Coalescer
from ovserve.graph.formats.text_options import Cut
from ovserve.graph.formats.tokens import (
    SplitRow,
    TokenBatch,
    check_length,
    cut_rows,
    right_padded,
    row_lengths_list,
)
from ovserve.runtime.infer_pool import InferRequestPool

if TYPE_CHECKING:
    from collections.abc import Sequence

    import openvino

# The value openvino_tokenizers itself uses for "do not truncate" (int32 max minus headroom).
NO_TRUNCATION = 2**31 - 1 - 64
_OUTPUTS = ("input_ids", "attention_mask", "token_type_ids")
VARIANT_CACHE_SIZE = 8
# Merged tokenizer calls running at once per node. One: callers that arrive while it runs all
# go into the next call. Measured under 64 concurrent one-text clients on 2 cores, in ABBA order
# against 2 slots: 30% fewer tokenizer calls, 10% less server CPU per request (5.24 against
# 5.84 ms) and 6% more texts/s. Large requests lose little: their tokenization is a few ms next
# to hundreds of ms of inference, and the model uses every core meanwhile anyway.
TOKENIZER_SLOTS = 1
# Infer requests per compiled tokenizer: the merged calls plus a few `/v3/tokenize` runs.
TOKENIZER_REQUESTS = 4
# Tokenizers run on the calling thread only. Their calls are short (0.4-3 ms here) and overlap
# with the embeddings model, which already uses every core: a second tokenizer thread only
# contends with the model's threads. Measured (1 x 8, 64 x 8 and 32 x 128 texts, 2 cores): one
# thread was as fast or faster alone, and did not swing between 0.4 and 0.7 ms per short call.
TOKENIZER_PROPERTIES = {"INFERENCE_NUM_THREADS": 1}
_VARIANT_LOCK = threading.Lock()
_VARIANTS: OrderedDict[tuple[int, int, int | None], tuple[object, object, InferRequestPool]] = OrderedDict()


def set_truncation(tokenizer: openvino.Model, content_max: int, *, where: str) -> openvino.Model:
    """A copy of `tokenizer` whose `Truncate` keeps at most `content_max` content tokens.

    Raises:
        ConfigError: the model has no `Truncate` operation (not an openvino-tokenizers model).
    """
    from openvino import opset13

    model = tokenizer.clone()
    found = False
    for op in model.get_ordered_ops():
        if op.get_type_name() != "Truncate":
            continue
        found = True
        limit = opset13.constant(np.int32(content_max)).output(0)
        source = op.input(3).get_source_output().get_node()
        if source.get_type_name() == "Select":
            # Keep the Select (its ReadValue/Assign pair must stay connected for the CPU plugin)
            # and make both branches the same constant.
            source.input(1).replace_source_output(limit)
            source.input(2).replace_source_output(limit)
        else:
            op.input(3).replace_source_output(limit)
    if not found:
        raise ConfigError(
            f"{where}: the tokenizer model has no Truncate operation; cannot set its max length"
        )
    model.validate_nodes_and_infer_types()
    return model


def compiled_variant(
    core: openvino.Core, tokenizer: openvino.Model, content_max: int | None, *, where: str
) -> InferRequestPool:
    """`tokenizer` compiled for CPU with its cut set to `content_max` (None: as converted).

    Compiled variants are cached (the last `VARIANT_CACHE_SIZE`), so reloading a graph whose
    tokenizer did not change (e.g. after a new version of its embeddings model) compiles
    nothing. A cached variant keeps its source model alive until it is evicted.

    Raises:
        ConfigError: as `set_truncation`.
    """
    # Keyed by identity, with the objects kept in the entry so that an id is never reused.
    key = (id(core), id(tokenizer), content_max)
    with _VARIANT_LOCK:
        hit = _VARIANTS.get(key)
        if hit is not None:
            _VARIANTS.move_to_end(key)
            return hit[2]
    model = tokenizer if content_max is None else set_truncation(tokenizer, content_max, where=where)
    pool = InferRequestPool(core.compile_model(model, "CPU", TOKENIZER_PROPERTIES), limit=TOKENIZER_REQUESTS)
    with _VARIANT_LOCK:
        _VARIANTS[key] = (core, tokenizer, pool)
        while len(_VARIANTS) > VARIANT_CACHE_SIZE:
            _VARIANTS.popitem(last=False)
    return pool


@dataclass(frozen=True, kw_only=True)
class TokenizerSettings:
    """How a graph tokenizes strings.

    Attributes:
        max_length: the model's maximum M, in tokens including special tokens.
        truncate: True: cut to M; False: reject N > M; None: keep the cut converted into the
            tokenizer (old OVMS graphs, whose `--truncate` was baked in) and reject N > M.
        strip: strip whitespace around every text before `encode` tokenizes it (what
            sentence-transformers does; see `ovserve.runtime.rt_info`).
    """

    max_length: int
    truncate: bool | None
    strip: bool = False


class TextTokenizer:
    """Strings → right-padded `TokenBatch`; thread-safe, shared by all runs of one node."""

    def __init__(
        self, core: openvino.Core, tokenizer: openvino.Model, settings: TokenizerSettings, *, where: str
    ) -> None:
        self.settings = settings
        names = {name for out in tokenizer.outputs for name in out.get_names()}
        if not {"input_ids", "attention_mask"} <= names:
            raise ConfigError(f"{where}: the tokenizer model has no input_ids/attention_mask outputs")
        self._core = core
        self._source = tokenizer
        self._where = where
        self._lock = threading.Lock()
        # The untruncated variant `split_rows` uses, and its special-token layout; made on demand.
        self._untruncated: InferRequestPool | None = None
        self._layout: tuple[int, int] | None = None
        # Concurrent requests' texts go through the tokenizer together (see `Coalescer`).
        self._coalesced: Coalescer[str, TokenBatch, TokenBatch] = Coalescer(
            lambda texts: _encode(self._requests, texts), rows_of, slots=TOKENIZER_SLOTS
        )
        if settings.truncate is None:
            self._requests = compiled_variant(core, tokenizer, None, where=where)
            return
        full = compiled_variant(core, tokenizer, NO_TRUNCATION, where=where)
        self._untruncated = full
        added = _encode(full, [""]).length
        content_max = settings.max_length - added
        if content_max < 1:
            raise ConfigError(
                f"{where}: max length {settings.max_length} leaves no room next to {added} special tokens"
            )
        self._requests = (
            compiled_variant(core, tokenizer, content_max, where=where) if settings.truncate else full
        )

    def encode(self, texts: Sequence[str], cut: Cut | None = None) -> TokenBatch:
        """Tokenize the batch together (padded to the longest row) and apply the length rule.

        `cut` is a request's own truncation (`ovserve.graph.formats.text_options.resolve_cut`); None or a
        cut that is not `explicit` keeps the graph's setting. A request cut is applied to rows
        the tokenizer did not cut below it (cutting the tokens of a whole text is what the
        Hugging Face tokenizer does), so concurrent requests with different cuts still share
        one tokenizer call.

        Raises:
            InvalidArgument: `Input length N longer than allowed M` when N > M.
        """
        return self.encode_many([(texts, cut)])[0]

    def encode_many(self, requests: Sequence[tuple[Sequence[str], Cut | None]]) -> list[TokenBatch]:
        """`encode(texts, cut)` of each request; every text the graph's own tokenizer call
        serves goes through it in one call (each request's rows as tokenizing it alone gives).

        Raises:
            InvalidArgument: as `encode`, for the first request that breaks the length rule.
        """
        strip = self.settings.strip
        prepared = [([text.strip() for text in texts] if strip else texts, cut) for texts, cut in requests]
        shared = [i for i, (_, cut) in enumerate(prepared) if self._graph_call_serves(cut)]
        batches: dict[int, TokenBatch] = {}
        if shared:
            merged = self._coalesced([text for i in shared for text in prepared[i][0]])
            start = 0
            for i in shared:
                stop = start + len(prepared[i][0])
                batches[i] = rows_of(merged, start, stop)
                start = stop
        out = []
        for i, (texts, cut) in enumerate(prepared):
            batch = batches.get(i)
            if batch is None:
                batch = _encode(self._untruncated_pool()[0], texts)
            if cut is not None and self._cuts_itself(cut) and cut.limit is not None:
                prefix, suffix = self.special_layout()
                batch = cut_rows(batch, cut.limit, prefix=prefix, suffix=suffix)
            check_length(batch.length, self.settings.max_length)
            out.append(batch)
        return out

    def _cuts_itself(self, cut: Cut) -> bool:
        """A request's cut that differs from the graph's, so the request applies it to the rows."""
        truncate = self.settings.truncate
        as_graph = truncate is not None and cut.limit == (self.settings.max_length if truncate else None)
        return cut.explicit and not as_graph

    def _graph_call_serves(self, cut: Cut | None) -> bool:
        """The graph's own tokenizer call gives the rows of a request with `cut` (before the
        request's own cut): it cuts at M (truncate on) or at a length converted in (old graphs),
        which is not below the request's cut; otherwise the untruncated variant must."""
        if cut is None or not self._cuts_itself(cut):
            return True
        truncate = self.settings.truncate
        return truncate is False or bool(truncate and cut.limit is not None)

    def special_layout(self) -> tuple[int, int]:
        """How many special tokens the tokenizer puts before and after a text's content."""
        return self._untruncated_pool()[1]

    def split_rows(self, texts: Sequence[str]) -> list[SplitRow]:
        """Each text tokenized with its special tokens and without any cut, padding removed.

        The first call compiles an untruncated variant when the node has none (old graphs whose
        cut is converted in) and finds which special tokens go before and after the content.
        """
        pool, (prefix, suffix) = self._untruncated_pool()
        if not texts:
            return []
        return [SplitRow(ids=ids, prefix=prefix, suffix=suffix) for ids in _encode(pool, texts).rows()]

    def _untruncated_pool(self) -> tuple[InferRequestPool, tuple[int, int]]:
        with self._lock:
            if self._untruncated is None:
                try:
                    full = compiled_variant(self._core, self._source, NO_TRUNCATION, where=self._where)
                except ConfigError:  # no Truncate operation: the tokenizer never cuts
                    full = self._requests
                self._untruncated = full
            if self._layout is None:
                # "" gives only the special tokens; "a" adds content between them, so the common
                # prefix of the two is what goes before the content.
                empty, probe = _encode(self._untruncated, ["", "a"]).rows()
                prefix = 0
                while prefix < len(empty) and prefix < len(probe) and empty[prefix] == probe[prefix]:
                    prefix += 1
                self._layout = (prefix, len(empty) - prefix)
            return self._untruncated, self._layout


def rows_of(batch: TokenBatch, start: int, stop: int) -> TokenBatch:
    """Rows `start:stop` of a right-padded batch, as tokenizing those texts alone gives them:
    cut to their own longest row (the cut columns are padding for every one of them)."""
    mask = batch.attention_mask[start:stop]
    if start == stop:
        return TokenBatch(
            input_ids=batch.input_ids[:0, :0], attention_mask=mask[:, :0], token_type_ids=mask[:, :0]
        )
    if start == 0 and stop == len(batch.attention_mask) and mask.shape[1] and mask[:, -1].any():
        return batch  # every row, and some row attends its last column: nothing to cut
    width = max(row_lengths_list(mask))
    return TokenBatch(
        input_ids=batch.input_ids[start:stop, :width],
        attention_mask=mask[:, :width],
        token_type_ids=batch.token_type_ids[start:stop, :width],
    )


def _encode(pool: InferRequestPool, texts: Sequence[str]) -> TokenBatch:
    import openvino

    with pool.request() as req:
        # Views of the outputs (no copy inside `infer`): each is copied once, below.
        result = req.infer({0: openvino.Tensor(np.array(list(texts), dtype=np.str_))}, share_outputs=True)
        arrays = {}
        for out, value in result.items():
            for name in out.get_names():
                if name in _OUTPUTS:
                    arrays[name] = np.array(value, dtype=np.int64, copy=True)
    ids = arrays["input_ids"]
    types = arrays.get("token_type_ids")
    # Tokenizers of decoder models pad on the left; a TokenBatch is right-padded.
    return right_padded(
        TokenBatch(
            input_ids=ids,
            attention_mask=arrays["attention_mask"],
            token_type_ids=types if types is not None else np.zeros_like(ids),
        )
    )
