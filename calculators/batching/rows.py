"""Rows waiting for a model, how a batch is picked from them, and how results go back.

Pure numpy (no OpenVINO), so the rules are testable without a model.

A request's `TokenBatch` is cut into rows, each trimmed to its own length (the last attended
position + 1), so a short text never carries the padding its request had. A merged batch
right-pads every row to the batch's length with attention mask 0 and ids / token types 0:
masked positions do not reach the attended ones (their attention weight is exactly 0), so
each row's hidden states at attended positions equal its unbatched ones within fp32 rounding,
and CLS / MEAN / LAST pooling (which read attended positions only) give the same vectors.
Token type ids stay per row, so OVMS's 1-for-token-input quirk survives merging.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ovserve.graph import BatchSettings
from ovserve.graph.formats.arrays import Float32Array
from ovserve.graph.formats.tokens import TokenBatch, row_lengths_list

# Rows are merged only while the longest is at most this many tokens, or a quarter, longer
# than the shortest: padding waste per row stays under ~25% for long texts, and short texts
# (where a 16-token pad costs less than the fixed cost of one more inference) still merge.
LENGTH_SLACK = 16

_sequence = itertools.count()


@dataclass(eq=False, kw_only=True)
class Job:
    """One request's rows and, once all ran, their results: `[N, L, D]` hidden states, or
    `[N, D]` when the model's results are per row (pooled vectors, a classifier's logits).

    Not thread-safe on its own: the batcher guards every field with its lock, except
    `batch` / `lengths` (immutable) and `out` rows, which each row's batch fills exactly once.
    """

    batch: TokenBatch
    lengths: tuple[int, ...]
    remaining: int
    out: Float32Array | None = None
    error: BaseException | None = None
    infer_s: float = 0.0
    """Wall time of the inferences that ran this job's rows (whole merged batches)."""

    @classmethod
    def of(cls, batch: TokenBatch) -> Job:
        lengths = row_lengths_list(batch.attention_mask)
        return cls(batch=batch, lengths=tuple(lengths), remaining=len(lengths))

    @property
    def done(self) -> bool:
        return self.error is not None or self.remaining == 0

    def rows(self) -> list[Row]:
        return [Row(job=self, index=i, length=length) for i, length in enumerate(self.lengths)]

    def allocate(self, trailing: tuple[int, ...], *, per_token: bool) -> None:
        """Create `out` once a row's result shape is known (caller holds the batcher's lock):
        `[N, L, *trailing]` for results per token, `[N, *trailing]` for one result per row."""
        n, width = self.batch.input_ids.shape
        self.out = np.zeros((n, width, *trailing) if per_token else (n, *trailing), dtype=np.float32)

    def copy_row(self, index: int, result: Float32Array, *, per_token: bool) -> None:
        """Store row `index`'s result from its batch: `[L_batch, D]` hidden states, or one row.

        Called by the one batch that ran the row. Per token, only the row's attended
        positions are stored and its padding stays zero: what a model computes there depends
        on the batch, and pooling never reads it.
        """
        if self.out is None:  # the job failed before any of its rows ran
            return
        if per_token:
            n = self.lengths[index]
            self.out[index, :n] = result[:n]
        else:
            self.out[index] = result


@dataclass(eq=False, kw_only=True)
class Row:
    """One text of a job; `seq` orders rows by arrival (oldest first)."""

    job: Job
    index: int
    length: int
    seq: int = field(default_factory=lambda: next(_sequence))


def close_enough(shortest: int, longest: int) -> bool:
    """Whether rows of these lengths may share a batch (see `LENGTH_SLACK`)."""
    return longest - shortest <= max(LENGTH_SLACK, shortest // 4)


def select(pending: Sequence[Row], settings: BatchSettings, limit: int) -> list[Row]:
    """The rows of the next batch: the oldest row plus its closest-length neighbours.

    `pending` is in arrival order and not empty. The oldest row always goes (no starvation);
    rows are added nearest length first while the batch stays within `max_batch_size`,
    `max_batch_tokens` (padded, after `pad_to_multiple_of` up to `limit`) and
    `close_enough`. Returns rows sorted by length.
    """
    anchor = pending[0]
    order = sorted(pending, key=lambda r: (r.length, r.seq))
    lo = hi = order.index(anchor)
    shortest = longest = anchor.length
    left_open, right_open = True, True
    while left_open or right_open:
        if hi - lo + 1 >= settings.max_batch_size:
            break
        left = order[lo - 1] if left_open and lo > 0 else None
        right = order[hi + 1] if right_open and hi + 1 < len(order) else None
        left_open, right_open = left is not None, right is not None
        if left is None and right is None:
            break
        take_left = right is None or (
            left is not None and anchor.length - left.length <= right.length - anchor.length
        )
        cand = left if take_left else right
        assert cand is not None
        new_short, new_long = min(shortest, cand.length), max(longest, cand.length)
        padded = settings.pad_length(new_long, limit)
        if close_enough(new_short, new_long) and (hi - lo + 2) * padded <= settings.max_batch_tokens:
            shortest, longest = new_short, new_long
            if take_left:
                lo -= 1
            else:
                hi += 1
        elif take_left:
            left_open = False  # farther left rows are shorter still: they cannot fit either
        else:
            right_open = False
    return order[lo : hi + 1]


def assemble(rows: Sequence[Row], settings: BatchSettings, limit: int) -> TokenBatch:
    """Right-pad `rows` into one batch (mask 0, ids and types 0 on padding)."""
    width = settings.pad_length(max(r.length for r in rows), limit)
    src = rows[0].job.batch
    if _whole_job_in_order(rows) and width == src.length:
        return src  # a lone request without excess padding goes to the model as it came
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for b, row in enumerate(rows):
        src, n = row.job.batch, row.length
        ids[b, :n] = src.input_ids[row.index, :n]
        mask[b, :n] = src.attention_mask[row.index, :n]
        types[b, :n] = src.token_type_ids[row.index, :n]
    return TokenBatch(input_ids=ids, attention_mask=mask, token_type_ids=types)


def _whole_job_in_order(rows: Sequence[Row]) -> bool:
    job = rows[0].job
    return len(rows) == len(job.lengths) and all(r.job is job and r.index == i for i, r in enumerate(rows))


def jobs_of(rows: Sequence[Row]) -> list[Job]:
    """The distinct jobs of `rows`, in first-seen order."""
    seen: dict[int, Job] = {}
    for row in rows:
        seen.setdefault(id(row.job), row.job)
    return list(seen.values())
