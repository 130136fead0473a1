"""TokenizerCalculator: documents → `input_ids` / `attention_mask` / `token_type_ids` (int64, padded).

Example config:
    node {
      name: "Tokenizer"
      calculator: "TokenizerCalculator"
      input_side_packet: "TOKENIZER:tokenizer"
      input_side_packet: "MODEL:model"
      input_stream: "INPUT:documents"
      output_stream: "INPUT_IDS:input_ids"
      output_stream: "ATTENTION_MASK:attention_mask"
      output_stream: "TOKEN_TYPE_IDS:token_type_ids"
      output_stream: "PROMPT_TOKENS:prompt_tokens"
      input_stream: "TOKENIZE:tokenize_request"   # optional: the /v3/tokenize branch
      output_stream: "TOKENS:tokens"
      node_options: {
        [type.googleapis.com/ovserve.calculators.TokenizerCalculatorOptions]: { truncate: true }
      }
    }

`TOKENIZER` is an openvino-tokenizers model (string input), `MODEL` the embeddings model it feeds;
`MODEL` is optional and only read at load for the workspace facts (max length M, truncation,
pad id, vocabulary size; see `calculators.model_facts`); the prompts are read from the tokenizer's
rt_info, else the model's. Length rules (OVMS's):

* strings are tokenized as one batch, padded to the longest row (N), on the right whatever the
  tokenizer's padding side (`ovserve.graph.formats.tokens.right_padded`); first stripped of surrounding
  whitespace when the export recorded it (`ovserve_strip_text`, sentence-transformers models),
  as `SentenceTransformer.encode` does. With truncate on, every row
  is cut to M tokens as the HF tokenizer cuts (special tokens kept); with it off, N > M fails.
  The model's prompt (the request's `prompt_name`, else the recorded default) goes before each
  text first, so it is stripped, cut and counted with it, as sentence-transformers does.
* token-id lists are used as given (never truncated), right-padded with the pad id; the mask is
  1 on given ids and `token_type_ids` are 1 (the OVMS quirk, 0 for single-type models); N > M fails.
* a request's `truncate` / `truncate_prompt_tokens` replace the node's setting for that request
  (`ovserve.graph.formats.text_options`: strings are cut as above at M or N, token-id lists to their first
  N ids).
* the failure is `InvalidArgument("Input length N longer than allowed M")`, raised here, so an
  over-long input never reaches the model.

`PROMPT_TOKENS` is the OpenAI usage count: the sum of the attention mask (all ids for token input).
Within a client request (`ovserve.graph.request_scope`), a count above the request's token limit is
refused here, before the model runs, and the tokenization time is reported.

`TOKENIZE` → `TOKENS` serves `/v3/tokenize`: texts are tokenized without the
node's cut and shaped by the request's options (`ovserve.graph.formats.tokens.arrange_token_rows`), so a
client sees the full token count unless it asks for `max_length`. `pad_to_max_length` without
`max_length` pads to the node's M; padding beyond M is refused (it would only allocate).
The same branch serves TEI's `/tokenize` (a request with `details`: each token's text, whether
it is special and its byte offsets, `calculators.token_details`) and `/decode` (a `DecodeRequest`),
both through the detokenizer found beside the tokenizer model (`calculators.ov_detokenizer`);
without one they answer UNIMPLEMENTED, naming where it was looked for.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from calculators import model_facts
from calculators.ov_detokenizer import LazyDetokenizer
from calculators.ov_tokenizer import TextTokenizer, TokenizerSettings
from calculators.token_details import token_details
from ovserve._proto.ovserve.calculators.tokenizer_calculator_pb2 import TokenizerCalculatorOptions
from ovserve.errors import ConfigError, InvalidArgument, Unimplemented
from ovserve.graph import (
    BatchCalculator,
    CalculatorContext,
    CalculatorContract,
    GraphLoadContext,
    Input,
    InputSidePacket,
    LoadedModel,
    Output,
    register_calculator,
)
from ovserve.graph.formats.arrays import Int64Array
from ovserve.graph.formats.embeddings import EmbeddingsInput
from ovserve.graph.formats.text_options import Cut, Prompts, resolve_cut
from ovserve.graph.formats.tokenize import (
    DecodeRequest,
    DecodeResult,
    TokenDetail,
    TokenizerAnswer,
    TokenizerCall,
    TokenizeRequest,
    TokenizeResult,
)
from ovserve.graph.formats.tokens import (
    TOKEN_INPUT_TYPE_ID,
    SplitRow,
    TokenBatch,
    arrange_token_rows,
    check_length,
    cut_token_ids,
    pad_token_ids,
)

TOKENIZER = InputSidePacket[LoadedModel]("TOKENIZER")
MODEL = InputSidePacket[LoadedModel]("MODEL", optional=True)
DOCUMENTS = Input[EmbeddingsInput]("INPUT")
INPUT_IDS = Output[Int64Array]("INPUT_IDS")
ATTENTION_MASK = Output[Int64Array]("ATTENTION_MASK")
TOKEN_TYPE_IDS = Output[Int64Array]("TOKEN_TYPE_IDS")
PROMPT_TOKENS = Output[int]("PROMPT_TOKENS")
TOKENIZE = Input[TokenizerCall]("TOKENIZE", optional=True)
TOKENS = Output[TokenizerAnswer]("TOKENS", optional=True)


@dataclass(frozen=True, kw_only=True)
class _Tokenization:
    """Per-node state made at load and shared by all runs (immutable; the tokenizer is thread-safe)."""

    text: TextTokenizer
    pad_token_id: int
    vocab_size: int | None
    token_type_id: int
    prompts: Prompts
    detokenizer: LazyDetokenizer

    def encode(self, documents: EmbeddingsInput) -> tuple[TokenBatch, int]:
        return self.encode_many([documents])[0]

    def encode_many(self, requests: Sequence[EmbeddingsInput]) -> list[tuple[TokenBatch, int]]:
        """Each request's tokens and prompt-token count; the texts of all go through the
        tokenizer together (`TextTokenizer.encode_many`). Raises for the first bad request."""
        settings = self.text.settings
        encoded: dict[int, tuple[TokenBatch, int]] = {}
        texts: list[tuple[int, Sequence[str], Cut | None]] = []
        for i, documents in enumerate(requests):
            options = documents.options
            cut = None
            if options.truncate is not None or options.truncate_prompt_tokens is not None:
                special = 0 if documents.is_tokens else sum(self.text.special_layout())
                cut = resolve_cut(
                    options,
                    max_length=settings.max_length,
                    graph_truncates=settings.truncate,
                    special=special,
                )
            if not documents.is_tokens:
                prompt = self.prompts.prompt_for(options.prompt_name)
                prompted = tuple(prompt + text for text in documents.texts) if prompt else documents.texts
                texts.append((i, prompted, cut))
                continue
            if options.prompt_name is not None:
                raise InvalidArgument("prompt_name applies to text input, not to token ids")
            rows: Sequence[Sequence[int]] = documents.token_ids
            if cut is not None and cut.explicit and cut.limit is not None:
                rows = cut_token_ids(rows, cut.limit)
            batch = pad_token_ids(
                rows,
                pad_token_id=self.pad_token_id,
                type_id=self.token_type_id,
                vocab_size=self.vocab_size,
            )
            check_length(batch.length, settings.max_length)
            encoded[i] = (batch, sum(len(row) for row in rows))
        if texts:
            batches = self.text.encode_many([(request, cut) for _, request, cut in texts])
            for (i, _, _), batch in zip(texts, batches, strict=True):
                encoded[i] = (batch, batch.prompt_tokens)
        return [encoded[i] for i in range(len(requests))]

    def tokenize(self, request: TokenizeRequest) -> TokenizeResult:
        texts = request.texts
        if request.prompted:
            prompt = self.prompts.prompt_for(request.prompt_name)
            texts = tuple(prompt + text for text in texts) if prompt else texts
        pad_to = None
        if request.pad_to_max_length:
            limit = self.text.settings.max_length
            pad_to = request.max_length or limit
            # Padding allocates what the client asks for: never beyond what the model can take.
            if pad_to > limit:
                message = f"max_length {pad_to} exceeds the maximum length {limit} of this graph"
                raise InvalidArgument(message + " (pad_to_max_length)")
        rows = self.text.split_rows(texts)
        tokens = arrange_token_rows(
            rows,
            add_special_tokens=request.add_special_tokens,
            max_length=request.max_length,
            pad_to=pad_to,
            pad_token_id=self.pad_token_id,
            padding_side=request.padding_side,
        )
        if not request.details:
            return TokenizeResult(tokens=tokens, single=request.single)
        return TokenizeResult(
            tokens=tokens,
            single=request.single,
            details=self._details(texts, rows, tokens, added=request.add_special_tokens),
        )

    def _details(
        self, texts: Sequence[str], rows: Sequence[SplitRow], tokens: Sequence[Sequence[int]], *, added: bool
    ) -> tuple[tuple[TokenDetail, ...], ...]:
        """Each row's tokens with text, specialness and position (one detokenizer call for all).

        `added`: the rows still hold the special tokens the tokenizer put around the content.
        """
        detokenizer = self.detokenizer.get()
        flat = [token for row in tokens for token in row]
        pieces, raw = iter(detokenizer.pieces(flat)), iter(detokenizer.raw_pieces(flat))
        details = []
        for text, row, ids in zip(texts, rows, tokens, strict=True):
            content = range(row.prefix, len(ids) - row.suffix) if added else range(len(ids))
            # As Hugging Face's special-tokens mask: only the tokens the tokenizer added are
            # special; a `[SEP]` typed in the text or an `[UNK]` is content.
            special = [i not in content for i in range(len(ids))]
            details.append(
                token_details(text, ids, [next(pieces) for _ in ids], [next(raw) for _ in ids], special)
            )
        return tuple(details)

    def decode(self, request: DecodeRequest) -> DecodeResult:
        texts = self.detokenizer.get().decode(request.rows, skip_special_tokens=request.skip_special_tokens)
        return DecodeResult(texts=tuple(texts))


def _settings(
    options: TokenizerCalculatorOptions, info: dict[str, str], config: dict[str, object], *, where: str
) -> TokenizerSettings:
    """Options first, then the workspace (see `model_facts`).

    Raises:
        ConfigError: an explicit max_length beyond the model's positional limit, since a longer
            input would reach the model and fail inside it.
    """
    limit = model_facts.positional_limit(info, config)
    if options.HasField("max_length"):
        if limit is not None and options.max_length > limit:
            raise ConfigError(f"{where}: max_length {options.max_length} exceeds the model limit {limit}")
        max_length = options.max_length
    else:
        max_length = model_facts.max_length(info, config)
    truncate = options.truncate if options.HasField("truncate") else model_facts.recorded_truncate(info)
    strip = model_facts.recorded_strip_text(info)
    return TokenizerSettings(max_length=max_length, truncate=truncate, strip=strip)


@register_calculator
class TokenizerCalculator(BatchCalculator):
    """Tokenizes requests, the texts of a batch in one tokenizer call; see the module docstring."""

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        cc.declare(
            TOKENIZER,
            MODEL,
            DOCUMENTS,
            INPUT_IDS,
            ATTENTION_MASK,
            TOKEN_TYPE_IDS,
            PROMPT_TOKENS,
            TOKENIZE,
            TOKENS,
        )
        cc.set_options(TokenizerCalculatorOptions)
        cc.process_in_batches()

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        options = lc.options(TokenizerCalculatorOptions)
        tokenizer = lc.side(TOKENIZER)
        model: LoadedModel | None = lc.side(MODEL) if MODEL.tag in lc.side_packets else None
        info = model_facts.model_info(model.model if model is not None else None)
        config = model_facts.hf_config(model.path if model is not None else None)
        settings = _settings(options, info, config, where=lc.node_name)
        # As OVMS: config.json's pad_token_id when non-zero, else the tokenizer's, else 0.
        pad = model_facts.int_fact("pad_token_id", info, config)
        if not pad:
            pad = model_facts.tokenizer_pad_id(tokenizer.model) or 0
        type_vocab = model_facts.int_fact("type_vocab_size", info, config)
        lc.node_state = _Tokenization(
            text=TextTokenizer(lc.core, tokenizer.model, settings, where=lc.node_name),
            pad_token_id=pad,
            vocab_size=model_facts.int_fact("vocab_size", info, config),
            token_type_id=TOKEN_INPUT_TYPE_ID if type_vocab is None or type_vocab > 1 else 0,
            prompts=model_facts.recorded_prompts(
                model_facts.model_info(tokenizer.model), info, where=lc.node_name
            ),
            detokenizer=LazyDetokenizer(lc.core, tokenizer.path, where=lc.node_name),
        )

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        state: _Tokenization = contexts[0].node_state
        embed = []
        for ctx in contexts:
            if ctx.has(TOKENIZE):
                _answer_tokenize(state, ctx)
            else:
                embed.append(ctx)
        if not embed:
            return
        started = time.perf_counter()
        encoded = state.encode_many([ctx.get(DOCUMENTS) for ctx in embed])
        took = time.perf_counter() - started
        for ctx, (batch, prompt_tokens) in zip(embed, encoded, strict=True):
            if ctx.scope is not None:
                ctx.scope.tokenization_s += took
                ctx.scope.check_tokens(prompt_tokens)
            ctx.set(INPUT_IDS, batch.input_ids)
            ctx.set(ATTENTION_MASK, batch.attention_mask)
            ctx.set(TOKEN_TYPE_IDS, batch.token_type_ids)
            ctx.set(PROMPT_TOKENS, prompt_tokens)


def _answer_tokenize(state: _Tokenization, ctx: CalculatorContext) -> None:
    """The `TOKENIZE` → `TOKENS` branch of one run (`/v3/tokenize`, TEI's `/tokenize`, `/decode`)."""
    if not ctx.emits(TOKENS):
        raise Unimplemented("this graph does not serve tokenize (its tokenizer node has no TOKENS stream)")
    started = time.perf_counter()
    call = ctx.get(TOKENIZE)
    ctx.set(TOKENS, state.decode(call) if isinstance(call, DecodeRequest) else state.tokenize(call))
    if ctx.scope is not None:
        ctx.scope.tokenization_s += time.perf_counter() - started
