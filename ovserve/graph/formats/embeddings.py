"""Neutral embeddings request/result objects and the OpenAI `input` validation shared by front ends.

`EmbeddingsRequest` is what the graph input tag `REQUEST_PAYLOAD` carries: the REST front end builds it
from the OpenAI JSON body with `parse_embeddings_body`, the gRPC front end from a KServe request.
`EmbeddingsResult` is what `RESPONSE_PAYLOAD` carries back; encoding it (float list or base64) is the
front end's job.

Every validation failure raises `InvalidArgument` with the exact message OVMS answers with, so
clients that match on OVMS error texts keep working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from ovserve.errors import InvalidArgument
from ovserve.graph.formats.text_options import DEFAULT_OPTIONS, TextOptions, parse_text_options

EncodingFormat = Literal["float", "base64"]

# Token ids travel as int64 tensors; anything outside cannot be represented.
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True, kw_only=True)
class EmbeddingsInput:
    """A batch of documents: either strings or pre-tokenized id lists, never both.

    Exactly one of `texts` and `token_ids` is non-empty. Token id lists are never empty.
    `options` are the request's prompt and truncation fields (`ovserve.graph.formats.text_options`).
    """

    texts: tuple[str, ...] = ()
    token_ids: tuple[tuple[int, ...], ...] = ()
    options: TextOptions = DEFAULT_OPTIONS

    def __post_init__(self) -> None:
        if bool(self.texts) == bool(self.token_ids):
            raise InvalidArgument("input field is required")

    @property
    def is_tokens(self) -> bool:
        return bool(self.token_ids)

    def __len__(self) -> int:
        return len(self.token_ids) if self.token_ids else len(self.texts)


@dataclass(frozen=True, kw_only=True)
class EmbeddingsRequest:
    """An OpenAI embeddings request after validation.

    `model` is the servable the client addressed (already used for routing); `encoding_format` is
    carried through for the front end that encodes the response. `dimensions`, `user` and unknown
    keys are ignored, as OVMS does.
    """

    input: EmbeddingsInput
    model: str = ""
    encoding_format: EncodingFormat = "float"


@dataclass(frozen=True, kw_only=True, eq=False)
class EmbeddingsResult:
    """One vector per input document, in input order, and the OpenAI `usage.prompt_tokens` count.

    `embeddings` is float32 `[N, D]`; `prompt_tokens` counts non-padding tokens including special
    tokens for string input, and all ids sent for token-id input.
    """

    embeddings: npt.NDArray[np.float32]
    prompt_tokens: int
    rendered: bytes | None = None
    """A front end's encoding of this result, when it asked the data plane for one (the graph
    itself never sets it)."""


def parse_embeddings_body(body: object) -> EmbeddingsRequest:
    """Validate a decoded OpenAI embeddings JSON body.

    Raises:
        InvalidArgument: with the OVMS message for the first problem found.
    """
    if not isinstance(body, Mapping):
        raise InvalidArgument("Received json is not an object")
    if "input" not in body:
        raise InvalidArgument("input field is required")
    encoding: EncodingFormat = "float"
    if "encoding_format" in body:
        value = body["encoding_format"]
        if not isinstance(value, str):
            raise InvalidArgument("encoding_format should be string")
        if value not in ("float", "base64"):
            raise InvalidArgument("encoding_format should either base64 or float")
        encoding = "float" if value == "float" else "base64"
    model = body.get("model", "")
    documents = parse_embeddings_input(body["input"])
    options = parse_text_options(body)
    return EmbeddingsRequest(
        input=documents if options.is_default else replace(documents, options=options),
        model=model if isinstance(model, str) else "",
        encoding_format=encoding,
    )


def parse_embeddings_input(value: object) -> EmbeddingsInput:
    """Validate the OpenAI `input` field: a string, strings, one id list, or id lists.

    Raises:
        InvalidArgument: with the OVMS message for the first problem found.
    """
    if isinstance(value, str):
        return EmbeddingsInput(texts=(value,))
    if not isinstance(value, Sequence) or isinstance(value, bytes | bytearray):
        raise InvalidArgument("input should be string, array of strings or array of integers")
    if not value:
        raise InvalidArgument("input array should not be empty")
    kinds = {_element_kind(item) for item in value}
    if len(kinds) > 1:
        raise InvalidArgument("input must be homogeneous")
    kind = kinds.pop()
    if kind == "str":
        return EmbeddingsInput(texts=tuple(value))
    if kind == "int":
        return EmbeddingsInput(token_ids=(_token_list(value),))
    rows = []
    for row in value:
        if not row:
            raise InvalidArgument("inner arrays in input should not be empty")
        rows.append(_token_list(row))
    return EmbeddingsInput(token_ids=tuple(rows))


def _element_kind(item: object) -> str:
    # bool is an int subclass in Python but a distinct JSON type; OVMS rejects it as an element.
    if isinstance(item, str):
        return "str"
    if isinstance(item, int) and not isinstance(item, bool):
        return "int"
    if isinstance(item, Sequence) and not isinstance(item, bytes | bytearray):
        return "list"
    raise InvalidArgument("every element in input array should be either string or int")


def _token_list(row: Sequence[object]) -> tuple[int, ...]:
    ids: list[int] = []
    for item in row:
        if not isinstance(item, int) or isinstance(item, bool):
            raise InvalidArgument("input must be either array of strings or array of array of integers")
        if not _INT64_MIN <= item <= _INT64_MAX:
            raise InvalidArgument(f"token id {item} is out of range")
        ids.append(item)
    return tuple(ids)
