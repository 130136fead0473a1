"""PairTokenizerCalculator: a rerank request → one (query, document) token row per document.

Example config:
    node {
      name: "PairTokenizer"
      calculator: "PairTokenizerCalculator"
      input_side_packet: "TOKENIZER:tokenizer"
      input_side_packet: "MODEL:model"
      input_stream: "RERANK_REQUEST:request"
      output_stream: "INPUT_IDS:input_ids"
      output_stream: "ATTENTION_MASK:attention_mask"
      output_stream: "TOKEN_TYPE_IDS:token_type_ids"
      output_stream: "PROMPT_TOKENS:prompt_tokens"
      node_options: {
        [type.googleapis.com/ovserve.calculators.PairTokenizerCalculatorOptions]: { max_length: 512 }
      }
    }

`TOKENIZER` is an openvino-tokenizers model converted without special tokens (as OVMS's and
ovserve's rerank exports convert it); the query and every document are tokenized alone, in one
merged call. Each pair is then laid out as the model's own tokenizer lays out a pair, from the
template ovserve's export records in the tokenizer's rt_info (`ovserve_pair_template`: BERT
`[CLS] q [SEP] d [SEP]` with token types 0/1, XLM-R `<s> q </s></s> d </s>`). Without it (a tree
OVMS exported) the layout is OVMS's: `bos q eos sep d eos`, types 0, ids from the tokenizer's
rt_info or the model's config.

Length: a pair longer than M (`max_length`, else the export's recorded max length, else the
model's positional limit) is cut as the Hugging Face fast tokenizer cuts a pair with
`truncation=True` (`longest_first`, what `CrossEncoder` uses): the longer text loses tokens from
its end until the pair fits, and when both are longer than half the room, each keeps half.
Documents are never split into chunks (OVMS chunks long documents and keeps the best chunk's
score; a cross-encoder scores what `CrossEncoder.predict` scores here).

`PROMPT_TOKENS` counts every token the model reads (special tokens included); within a client
request it is checked against the request's token limit before the model runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from calculators import model_facts
from calculators.ov_tokenizer import TextTokenizer, TokenizerSettings
from ovserve._proto.ovserve.calculators.pair_tokenizer_calculator_pb2 import PairTokenizerCalculatorOptions
from ovserve.errors import ConfigError
from ovserve.graph import (
    Calculator,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Input,
    InputSidePacket,
    LoadedModel,
    Output,
    register_calculator,
    request_scope,
)
from ovserve.graph.formats.arrays import Int64Array
from ovserve.graph.formats.rerank import RerankRequest
from ovserve.graph.formats.tokens import TokenBatch
from ovserve.runtime import rt_info
from ovserve.runtime.positions import usable_positions

TOKENIZER = InputSidePacket[LoadedModel]("TOKENIZER")
MODEL = InputSidePacket[LoadedModel]("MODEL", optional=True)
RERANK_REQUEST = Input[RerankRequest]("RERANK_REQUEST")
INPUT_IDS = Output[Int64Array]("INPUT_IDS")
ATTENTION_MASK = Output[Int64Array]("ATTENTION_MASK")
TOKEN_TYPE_IDS = Output[Int64Array]("TOKEN_TYPE_IDS")
PROMPT_TOKENS = Output[int]("PROMPT_TOKENS")

KEY_PAIR_TEMPLATE = rt_info.KEY_PAIR_TEMPLATE
QUERY_SLOT = rt_info.PAIR_QUERY_SLOT
DOCUMENT_SLOT = rt_info.PAIR_DOCUMENT_SLOT
DEFAULT_MAX_LENGTH = 512
"""OVMS's rerank default when nothing states the model's limit."""
# A content cut no pair reaches: the tokenizer's own cut (`--max_doc_length`) stays in force.
_NO_LIMIT = 2**31 - 1


@dataclass(frozen=True, kw_only=True)
class PairTemplate:
    """Where a pair's special tokens go: `ids` holds `QUERY_SLOT` and `DOCUMENT_SLOT` once each,
    `types[i]` is position i's token type (a slot's type applies to all of its tokens)."""

    ids: tuple[int, ...]
    types: tuple[int, ...]

    @classmethod
    def parse(cls, text: str, *, where: str) -> PairTemplate:
        """The template of its JSON text `{"ids": [...], "types": [...]}`.

        Raises:
            ConfigError: not that shape, or a slot missing or repeated.
        """
        try:
            data = json.loads(text)
            ids, types = tuple(int(i) for i in data["ids"]), tuple(int(t) for t in data["types"])
        except (ValueError, TypeError, KeyError):
            raise ConfigError(
                f"{where}: rt_info {KEY_PAIR_TEMPLATE} is not a pair template: {text!r}"
            ) from None
        if len(ids) != len(types) or ids.count(QUERY_SLOT) != 1 or ids.count(DOCUMENT_SLOT) != 1:
            raise ConfigError(f"{where}: rt_info {KEY_PAIR_TEMPLATE} needs one query and one document slot")
        return cls(ids=ids, types=types)

    @property
    def special(self) -> int:
        """Special tokens per pair."""
        return len(self.ids) - 2


def longest_first(first: int, second: int, room: int) -> tuple[int, int]:
    """How many tokens of each text a pair keeps when `room` content tokens fit: the Hugging
    Face fast tokenizer's `longest_first` (`tokenizers` `truncate_encodings`, stride 0)."""
    if first + second <= room:
        return first, second
    short, long_ = sorted((first, second))
    swapped = first > second
    long_ = short if short > room else max(short, room - short)
    if short + long_ > room:
        short = room // 2
        long_ = short + room % 2
    return (long_, short) if swapped else (short, long_)


def pair_batch(
    query: Sequence[int],
    documents: Sequence[Sequence[int]],
    template: PairTemplate,
    *,
    max_length: int,
    pad_token_id: int,
) -> TokenBatch:
    """The right-padded `[len(documents), L]` batch of (query, document) pairs (see module doc)."""
    room = max_length - template.special
    rows: list[tuple[list[int], list[int]]] = []
    for document in documents:
        keep_query, keep_document = longest_first(len(query), len(document), room)
        ids: list[int] = []
        types: list[int] = []
        for token, kind in zip(template.ids, template.types, strict=True):
            part = query[:keep_query] if token == QUERY_SLOT else document[:keep_document]
            if token in (QUERY_SLOT, DOCUMENT_SLOT):
                ids.extend(int(t) for t in part)
                types.extend([kind] * len(part))
            else:
                ids.append(token)
                types.append(kind)
        rows.append((ids, types))
    width = max(len(ids) for ids, _ in rows)
    input_ids = np.full((len(rows), width), pad_token_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    token_types = np.zeros((len(rows), width), dtype=np.int64)
    for i, (ids, types) in enumerate(rows):
        input_ids[i, : len(ids)] = ids
        mask[i, : len(ids)] = 1
        token_types[i, : len(types)] = types
    return TokenBatch(input_ids=input_ids, attention_mask=mask, token_type_ids=token_types)


@dataclass(frozen=True, kw_only=True)
class _PairTokenization:
    """Per-node state made at load, shared by all runs (the tokenizer is thread-safe)."""

    text: TextTokenizer
    template: PairTemplate
    max_length: int
    pad_token_id: int

    def encode(self, request: RerankRequest) -> TokenBatch:
        batch = self.text.encode([request.query, *request.documents])
        query, *documents = batch.rows()
        return pair_batch(
            query.tolist(),
            [d.tolist() for d in documents],
            self.template,
            max_length=self.max_length,
            pad_token_id=self.pad_token_id,
        )


def _special_id(
    key: str, tokenizer: LoadedModel, info: dict[str, str], config: dict[str, object]
) -> int | None:
    model = tokenizer.model
    if model is not None and model.has_rt_info(key):
        text = model.get_rt_info(key).astype(str).strip()
        if text.isdigit():
            return int(text)
    return model_facts.int_fact(key, info, config)


def _template(
    tokenizer: LoadedModel, info: dict[str, str], config: dict[str, object], *, where: str
) -> PairTemplate:
    recorded = model_facts.model_info(tokenizer.model).get(KEY_PAIR_TEMPLATE) or info.get(KEY_PAIR_TEMPLATE)
    if recorded:
        return PairTemplate.parse(recorded, where=where)
    found = {
        key: _special_id(key, tokenizer, info, config)
        for key in ("bos_token_id", "eos_token_id", "sep_token_id")
    }
    if found["sep_token_id"] is None:
        found["sep_token_id"] = found["eos_token_id"]  # XLM-R's </s> is both
    missing = [key for key, value in found.items() if value is None]
    if missing:
        raise ConfigError(
            f"{where}: the tokenizer records no pair layout ({KEY_PAIR_TEMPLATE}) and no "
            f"{', '.join(missing)}; export the model with `ovserve export rerank`"
        )
    bos, eos, sep = (int(found[k] or 0) for k in ("bos_token_id", "eos_token_id", "sep_token_id"))
    return PairTemplate(ids=(bos, QUERY_SLOT, eos, sep, DOCUMENT_SLOT, eos), types=(0,) * 6)


def _max_length(
    options: PairTokenizerCalculatorOptions, info: dict[str, str], config: dict[str, object], *, where: str
) -> int:
    merged: dict[str, object] = {**config, **info}
    limit = usable_positions(merged, model_facts.positional_limit(info, config))
    if options.HasField("max_length"):
        if limit is not None and options.max_length > limit:
            raise ConfigError(f"{where}: max_length {options.max_length} exceeds the model limit {limit}")
        return options.max_length
    recorded = info.get(rt_info.KEY_MAX_LENGTH, "").strip()
    if recorded.isdigit() and int(recorded) > 0:
        return int(recorded)
    return limit if limit is not None else DEFAULT_MAX_LENGTH


def load_pair_tokenization(
    lc: GraphLoadContext,
    options: PairTokenizerCalculatorOptions,
    tokenizer: LoadedModel,
    model: LoadedModel | None,
) -> _PairTokenization:
    """The node state of a pair tokenizer for `tokenizer` feeding `model`.

    Raises:
        ConfigError: no pair layout can be found, M leaves no room for content, or an explicit
            `max_length` exceeds the model's positional limit.
    """
    where = lc.node_name
    info = model_facts.model_info(model.model if model is not None else None)
    config = model_facts.hf_config(model.path if model is not None else None)
    template = _template(tokenizer, info, config, where=where)
    max_length = _max_length(options, info, config, where=where)
    if max_length - template.special < 2:
        raise ConfigError(
            f"{where}: max length {max_length} leaves no room next to {template.special} special tokens"
        )
    # As OVMS: config.json's pad_token_id when non-zero, else the tokenizer's, else 0.
    pad = (
        model_facts.int_fact("pad_token_id", info, config)
        or model_facts.tokenizer_pad_id(tokenizer.model)
        or 0
    )
    settings = TokenizerSettings(max_length=_NO_LIMIT, truncate=None)
    return _PairTokenization(
        text=TextTokenizer(lc.core, tokenizer.model, settings, where=where),
        template=template,
        max_length=max_length,
        pad_token_id=pad,
    )


@register_calculator
class PairTokenizerCalculator(Calculator):
    """Tokenizes one rerank request into its (query, document) pairs."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(TOKENIZER, MODEL, RERANK_REQUEST, INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS, PROMPT_TOKENS)
        cc.set_options(PairTokenizerCalculatorOptions)

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        model = lc.side(MODEL) if MODEL.tag in lc.side_packets else None
        lc.node_state = load_pair_tokenization(
            lc, lc.options(PairTokenizerCalculatorOptions), lc.side(TOKENIZER), model
        )

    def process(self, ctx: CalculatorContext) -> None:
        state: _PairTokenization = ctx.node_state
        started = time.perf_counter()
        batch = state.encode(ctx.get(RERANK_REQUEST))
        scope = request_scope.current()
        if scope is not None:
            scope.tokenization_s += time.perf_counter() - started
            scope.check_tokens(batch.prompt_tokens)
        ctx.set(INPUT_IDS, batch.input_ids)
        ctx.set(ATTENTION_MASK, batch.attention_mask)
        ctx.set(TOKEN_TYPE_IDS, batch.token_type_ids)
        ctx.set(PROMPT_TOKENS, batch.prompt_tokens)
