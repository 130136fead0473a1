"""The tokenizer's own operations: `/v3/tokenize` (OVMS) and TEI's `/tokenize` and `/decode`.
Their request and result objects, and the `/v3/tokenize` body validation with OVMS's error texts
(`text field is required`, ...).

A tokenize call travels through the same graph as an embeddings call: the front end hands the
graph a `TokenizeBody` (the JSON body, not yet validated, so that problems come back inside the
OVMS execution-error wrapper exactly as embeddings body errors do); the request node validates it
into a `TokenizeRequest` and emits it on its `TOKENIZE` branch; the tokenizer node answers with a
`TokenizeResult`, which the response node passes out on `RESPONSE_PAYLOAD`. TEI's calls take the
same branch, built by their front end: a `TokenizeRequest` with `details` (each token's text and
position too) or a `DecodeRequest`, answered with a `DecodeResult`.

Validation failures raise `InvalidArgument` with the OVMS message texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ovserve.errors import InvalidArgument

PaddingSide = Literal["left", "right"]


@dataclass(frozen=True)
class TokenizeBody:
    """A decoded `/v3/tokenize` JSON body, validated by the graph's request node."""

    body: Mapping[str, object]


@dataclass(frozen=True, kw_only=True)
class TokenizeRequest:
    """A validated tokenize call.

    Attributes:
        texts: the strings to tokenize (possibly none).
        single: the body's `text` was one string, so the answer is one id list, not a list of them.
        max_length: cut every row to at most this many tokens (special tokens kept); None: no cut.
        pad_to_max_length: right- or left-pad every row with the pad id to `max_length` (or to the
            graph's maximum length when `max_length` is not given). Off: rows keep their own length.
        add_special_tokens: add `[CLS]`/`[SEP]` and the like, as the tokenizer does by default.
        padding_side: where padding goes when `pad_to_max_length` is on.
        details: also give each token's text, whether it is special and where it sits in the
            text (`TokenizeResult.details`; needs the graph's detokenizer).
        prompted: put the model's prompt before each text, as embeddings requests do:
            `prompt_name`'s, else the model's default one (TEI; OVMS's call adds none).
        prompt_name: the prompt to use when `prompted`; None: the default.
    """

    texts: tuple[str, ...]
    single: bool = False
    max_length: int | None = None
    pad_to_max_length: bool = False
    add_special_tokens: bool = True
    padding_side: PaddingSide = "right"
    details: bool = False
    prompted: bool = False
    prompt_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class TokenDetail:
    """One token as TEI's `/tokenize` gives it.

    Attributes:
        id: the token id.
        text: the input's text the token covers; for a special token, or one whose place was
            not found, the token decoded alone.
        special: added around the text by the tokenizer (`[CLS]`, `</s>`), as Hugging Face's
            special-tokens mask counts them.
        start, stop: UTF-8 byte offsets of `text` in the tokenized text; None for special
            tokens and tokens whose place was not found (`calculators.token_details`).
    """

    id: int
    text: str
    special: bool
    start: int | None
    stop: int | None


@dataclass(frozen=True, kw_only=True)
class TokenizeResult:
    """Token ids per text, in input order; `single` as in `TokenizeRequest`; `details`, one
    row per text, when the request asked for them (else empty)."""

    tokens: tuple[tuple[int, ...], ...]
    single: bool = False
    details: tuple[tuple[TokenDetail, ...], ...] = ()


@dataclass(frozen=True, kw_only=True)
class DecodeRequest:
    """Token id rows to turn back into text (TEI's `/decode`).

    Attributes:
        rows: one id list per text wanted.
        skip_special_tokens: leave the tokenizer's special tokens out, as Hugging Face's `decode`.
    """

    rows: tuple[tuple[int, ...], ...]
    skip_special_tokens: bool = True


@dataclass(frozen=True, kw_only=True)
class DecodeResult:
    """One string per row of the `DecodeRequest`, in order."""

    texts: tuple[str, ...]


TokenizerCall = TokenizeRequest | DecodeRequest
TokenizerAnswer = TokenizeResult | DecodeResult


def parse_tokenize_body(body: Mapping[str, object]) -> TokenizeRequest:
    """Validate a decoded tokenize body (keys other than the ones below are ignored).

    Raises:
        InvalidArgument: with the OVMS message for the first problem found (`text`, then
            `max_length`, `pad_to_max_length`, `add_special_tokens`, `padding_side`).
    """
    if "text" not in body:
        raise InvalidArgument("text field is required")
    text = body["text"]
    if isinstance(text, str):
        texts: tuple[str, ...] = (text,)
    elif isinstance(text, list) and all(isinstance(item, str) for item in text):
        texts = tuple(text)
    else:
        raise InvalidArgument("Input should be string or array of strings")
    max_length = body.get("max_length")
    if max_length is not None:
        # bool is an int in Python but not a JSON number; a negative number is not unsigned.
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 0:
            raise InvalidArgument("max_length should be unsigned integer")
        if max_length == 0:
            raise InvalidArgument("max_length should be greater than 0")
    pad_to_max_length = _flag(body, "pad_to_max_length", default=False)
    add_special_tokens = _flag(body, "add_special_tokens", default=True)
    padding_side = body.get("padding_side", "right")
    if padding_side not in ("left", "right"):
        raise InvalidArgument("padding_side should be either left or right")
    return TokenizeRequest(
        texts=texts,
        single=isinstance(text, str),
        max_length=max_length,
        pad_to_max_length=pad_to_max_length,
        add_special_tokens=add_special_tokens,
        padding_side="left" if padding_side == "left" else "right",
    )


def _flag(body: Mapping[str, object], key: str, *, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise InvalidArgument(f"{key} should be boolean")
    return value
