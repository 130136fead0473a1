"""The token batch passed between the tokenizer and the model, and OVMS's length rules.

A request whose padded length N exceeds the model's maximum M is refused with OVMS's
`Input length N longer than allowed M`, unless the graph truncates; token-id input is never cut.

Pure numpy: no OpenVINO here, so the rules are testable without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ovserve.errors import InvalidArgument
from ovserve.graph.formats.arrays import Int64Array

# OVMS fills token_type_ids with 1 for token-id input (0 for strings); we keep that quirk so the same
# ids give the same vectors on both servers. Models with a single token type get 0 (1 would be out of
# the embedding table).
TOKEN_INPUT_TYPE_ID = 1


@dataclass(frozen=True, kw_only=True, eq=False)
class TokenBatch:
    """Right-padded int64 `[N, L]` tensors as a BERT-style model expects them.

    The attention mask says where a row's real tokens are; everything downstream reads it
    through `row_lengths`, `first_positions`, `last_positions` and `position_ids` below.
    Batches made here and by the tokenizer are right-padded (`right_padded`: a left-padding
    tokenizer's output is turned around), so a row's real tokens are `[0, row_lengths)`, the
    batcher can trim and re-pad rows, and a model that takes no `position_ids` numbers them
    from 0; the readers above stay right for any padding.

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
        """The padded length N that the length rule compares with the maximum."""
        return int(self.input_ids.shape[1])


def row_lengths(mask: Int64Array) -> Int64Array:
    """Per row, the last attended position + 1: the width that holds all its real tokens.

    1 for a row with none, so that position 0 stays readable (CLS / LAST read it).
    """
    attended = np.asarray(mask) != 0
    width = attended.shape[1]
    lengths: Int64Array = np.where(
        attended.any(axis=1), width - np.argmax(attended[:, ::-1], axis=1), 1
    ).astype(np.int64)
    return lengths


_SCAN_IN_PYTHON_MAX = 512
"""Masks of at most this many values are scanned in Python by `row_lengths_list`: numpy's
half a dozen calls cost ~8 µs on a one-text request, a scan of a short row ~0.5 µs."""


def row_lengths_list(mask: Int64Array) -> list[int]:
    """`row_lengths(mask)` as a list of ints, the form the batcher and the tokenizer's split
    use (same values; small masks are scanned from each row's end in Python, see above)."""
    if mask.size > _SCAN_IN_PYTHON_MAX:
        lengths: list[int] = row_lengths(mask).tolist()
        return lengths
    out = []
    for row in np.asarray(mask).tolist():
        n = len(row)
        while n and not row[n - 1]:
            n -= 1
        out.append(n or 1)
    return out


def first_positions(mask: Int64Array) -> Int64Array:
    """Per row, the first attended position (0 for a row with none)."""
    first: Int64Array = np.argmax(np.asarray(mask) != 0, axis=1).astype(np.int64)
    return first


def last_positions(mask: Int64Array) -> Int64Array:
    """Per row, the last attended position (0 for a row with none): where a decoder's last
    real token is, the one last-token pooling reads, whatever the padding side."""
    last: Int64Array = row_lengths(mask) - 1
    return last


def position_ids(mask: Int64Array) -> Int64Array:
    """Each token's position among the real tokens of its row (0, 1, ...), padding clamped:
    what a model fed `position_ids` must see so that padding on either side changes nothing."""
    positions: Int64Array = np.maximum(np.cumsum(np.asarray(mask) != 0, axis=1) - 1, 0).astype(np.int64)
    return positions


def right_padded(batch: TokenBatch) -> TokenBatch:
    """`batch` with each row's real tokens moved to its front, in order (padding after them).

    For the output of left-padding tokenizers (decoder models such as Qwen3): the attention
    mask, not the padding side, decides what a model computes for the real tokens, so right
    padding gives the same vectors, and it is the layout the batcher trims and merges.
    Returns `batch` itself when it is already right-padded.
    """
    attended = np.asarray(batch.attention_mask) != 0
    if not (attended[:, 1:] & ~attended[:, :-1]).any():
        return batch
    order = np.argsort(~attended, axis=1, kind="stable")
    return TokenBatch(
        input_ids=np.take_along_axis(batch.input_ids, order, axis=1),
        attention_mask=np.take_along_axis(batch.attention_mask, order, axis=1),
        token_type_ids=np.take_along_axis(batch.token_type_ids, order, axis=1),
    )


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


def cut_rows(batch: TokenBatch, limit: int, *, prefix: int, suffix: int) -> TokenBatch:
    """`batch` (right-padded, untruncated or cut at no less than `limit`) with every row cut to
    at most `limit` tokens as a Hugging Face tokenizer cuts (`truncation=True, max_length`):
    the `prefix` special tokens, the first `limit - prefix - suffix` content tokens, then the
    `suffix` special tokens. Returns `batch` itself when no row is longer than `limit`.

    The caller ensures `limit > prefix + suffix` (there is room for content).
    """
    lengths = row_lengths(batch.attention_mask) * (np.asarray(batch.attention_mask).any(axis=1))
    if int(lengths.max(initial=0)) <= limit:
        return batch
    rows, width = batch.input_ids.shape[0], min(limit, batch.length)
    ids = np.zeros((rows, width), dtype=np.int64)
    mask = np.zeros((rows, width), dtype=np.int64)
    types = np.zeros((rows, width), dtype=np.int64)
    for i, length in enumerate(int(n) for n in lengths):
        if length <= limit:
            keep = np.arange(length)
        else:
            content = limit - prefix - suffix
            keep = np.concatenate([np.arange(prefix + content), np.arange(length - suffix, length)]).astype(
                np.int64
            )
        ids[i, : keep.size] = batch.input_ids[i, keep]
        mask[i, : keep.size] = batch.attention_mask[i, keep]
        types[i, : keep.size] = batch.token_type_ids[i, keep]
        if keep.size < width:  # padding after the row: the pad id of the batch's own padding
            ids[i, keep.size :] = _pad_id_of(batch)
    return TokenBatch(input_ids=ids, attention_mask=mask, token_type_ids=types)


def cut_token_ids(rows: Sequence[Sequence[int]], limit: int) -> list[Sequence[int]]:
    """Token-id input cut to its first `limit` ids per row (ids are final: no special tokens
    are kept apart)."""
    return [row[:limit] for row in rows]


def _pad_id_of(batch: TokenBatch) -> int:
    # A right-padded batch whose rows all fit has no padding to copy; 0 is then as good as any
    # value, since the mask hides it.
    padding = batch.input_ids[np.asarray(batch.attention_mask) == 0]
    return int(padding[0]) if padding.size else 0
