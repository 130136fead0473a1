"""The token batch passed between the tokenizer and the model, and the length rules of reference §9.4.

Pure numpy: no OpenVINO here, so the rules are testable without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ovserve.errors import InvalidArgument

Int64Array = npt.NDArray[np.int64]

# OVMS fills token_type_ids with 1 for token-id input (0 for strings); we keep that quirk so the same
# ids give the same vectors on both servers. Models with a single token type get 0 (1 would be out of
# the embedding table).
TOKEN_INPUT_TYPE_ID = 1


@dataclass(frozen=True, kw_only=True, eq=False)
class TokenBatch:
    """Right-padded int64 `[N, L]` tensors as a BERT-style model expects them.

    `prompt_tokens` is the OpenAI usage count: the sum of the attention mask.
    """

    input_ids: Int64Array
    attention_mask: Int64Array
    token_type_ids: Int64Array

    @property
    def prompt_tokens(self) -> int:
        return int(self.attention_mask.sum())

    def rows(self) -> list[Int64Array]:
        """Each row's ids without padding (the positions where the mask is 1)."""
        return [ids[mask == 1] for ids, mask in zip(self.input_ids, self.attention_mask, strict=True)]

    @property
    def length(self) -> int:
        """The padded length N that the §9.4 rule compares with the maximum."""
        return int(self.input_ids.shape[1])


def check_length(length: int, max_length: int) -> None:
    """Reject a batch whose padded length exceeds the maximum, before it reaches the model.

    Raises:
        InvalidArgument: `Input length N longer than allowed M` (the OVMS text).
    """
    if length > max_length:
        raise InvalidArgument(f"Input length {length} longer than allowed {max_length}")


def pad_token_ids(
    rows: Sequence[Sequence[int]],
    *,
    pad_token_id: int,
    type_id: int = TOKEN_INPUT_TYPE_ID,
    vocab_size: int | None = None,
) -> TokenBatch:
    """Build a batch from pre-tokenized id lists, which are taken as they are (never truncated).

    Rows are right-padded with `pad_token_id` to the longest row; the mask is 1 on given ids.

    Raises:
        InvalidArgument: a row is empty, or an id is negative or not below `vocab_size`.
    """
    if not rows or any(len(row) == 0 for row in rows):
        raise InvalidArgument("inner arrays in input should not be empty")
    longest = max(len(row) for row in rows)
    ids = np.full((len(rows), longest), pad_token_id, dtype=np.int64)
    mask = np.zeros((len(rows), longest), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    given = ids[mask == 1]
    # An id outside the vocabulary would make the model's Gather fail or read garbage.
    bad = given[(given < 0) | (given >= vocab_size)] if vocab_size else given[given < 0]
    if bad.size:
        limit = f" [0, {vocab_size})" if vocab_size else ""
        raise InvalidArgument(f"token id {int(bad[0])} is out of the vocabulary range{limit}")
    types = np.full_like(ids, type_id)
    return TokenBatch(input_ids=ids, attention_mask=mask, token_type_ids=types)


@dataclass(frozen=True, kw_only=True, eq=False)
class SplitRow:
    """One tokenized text as the tokenizer produced it with special tokens and no cut:
    `ids[:prefix]` and `ids[len(ids) - suffix:]` are the special tokens, the rest is content."""

    ids: Int64Array
    prefix: int
    suffix: int


def arrange_token_rows(
    rows: Sequence[SplitRow],
    *,
    add_special_tokens: bool,
    max_length: int | None,
    pad_to: int | None,
    pad_token_id: int,
    padding_side: str = "right",
) -> tuple[tuple[int, ...], ...]:
    """Apply the tokenize options to untruncated rows, as a Hugging Face tokenizer does.

    Without special tokens only the content is kept. With `max_length` the content is cut from
    the right so that the row, special tokens included, has at most `max_length` tokens (the
    special tokens stay; a `max_length` too small even for them cuts the row itself). With
    `pad_to` shorter rows are filled with `pad_token_id` on `padding_side`; longer rows are kept.
    """
    shaped: list[tuple[int, ...]] = []
    for row in rows:
        ids = [int(i) for i in row.ids]
        head = ids[: row.prefix] if add_special_tokens else []
        tail = ids[len(ids) - row.suffix :] if add_special_tokens and row.suffix else []
        body = ids[row.prefix : len(ids) - row.suffix]
        if max_length is not None:
            body = body[: max(0, max_length - len(head) - len(tail))]
        out = (head + body + tail)[:max_length] if max_length is not None else head + body + tail
        if pad_to is not None and len(out) < pad_to:
            padding = [pad_token_id] * (pad_to - len(out))
            out = padding + out if padding_side == "left" else out + padding
        shaped.append(tuple(out))
    return tuple(shaped)
