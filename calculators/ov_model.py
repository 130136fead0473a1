"""Running a feature-extraction model: token tensors in, `[N, L, D]` hidden states out (or, for
a sequence classifier, `[N, labels]` logits).

The model is fed only the inputs it declares (BERT exports take `token_type_ids`, XLM-R and
sentence-transformers exports do not), and its hidden states are the first output of rank 3
(`last_hidden_state`; a sentence-transformers export also has a rank-2 `sentence_embedding`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ovserve.errors import ConfigError
from ovserve.graph.formats.arrays import Float32Array, Int64Array
from ovserve.graph.formats.tokens import TokenBatch, position_ids
from ovserve.runtime.infer_pool import InferRequestPool, optimal_requests

if TYPE_CHECKING:
    import openvino

KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")

Reduce = Callable[[Float32Array, Int64Array], Float32Array]
"""Turns a batch's output and attention mask into what the caller keeps (e.g. pooled
vectors); it must not return a view of the output, which the next inference overwrites."""


class FeatureExtractor:
    """A compiled feature-extraction model; thread-safe, shared by all runs of one node.

    Raises (at construction):
        ConfigError: an input the model needs cannot be fed, or no output has rank `rank`
            (3: hidden states; 2: a sequence classifier's `[batch, labels]` logits).
    """

    def __init__(
        self, compiled: openvino.CompiledModel, *, output_name: str = "", rank: int = 3, where: str
    ) -> None:
        self._inputs: list[tuple[int, str]] = []
        for index, port in enumerate(compiled.inputs):
            known = [name for name in KNOWN_INPUTS if name in port.get_names()]
            if not known:
                raise ConfigError(
                    f"{where}: model input {port.get_any_name()!r} is not one of {', '.join(KNOWN_INPUTS)}"
                )
            self._inputs.append((index, known[0]))
        self._output = _pick_output(compiled, output_name, rank, where=where)
        # As many requests as the device runs at once: more would only hold more memory.
        self._requests = InferRequestPool(compiled, limit=optimal_requests(compiled))

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(name for _, name in self._inputs)

    @property
    def compiled(self) -> openvino.CompiledModel:
        return self._requests.compiled

    def optimal_requests(self) -> int:
        """The compiled model's OPTIMAL_NUMBER_OF_INFER_REQUESTS (1 if the device does not say)."""
        return self._requests.limit

    def run(self, batch: TokenBatch, reduce: Reduce | None = None) -> Float32Array:
        """The chosen output (hidden states `[N, L, D]`, or logits `[N, labels]`) as float32,
        owned by the caller; with `reduce`, `reduce(output, batch.attention_mask)` instead
        (e.g. pooled vectors), read from the request's memory with no copy. Thread-safe."""
        with self._requests.request() as req:
            out = self.infer(req, batch)
            if reduce is not None:
                return reduce(out, batch.attention_mask)
            return np.array(out, dtype=np.float32, copy=True)

    def infer(self, req: openvino.InferRequest, batch: TokenBatch) -> Float32Array:
        """Run `batch` on `req`, which the caller holds exclusively; return its hidden states.

        The result aliases `req`'s output memory: read it before `req` runs again.
        The GIL is released while the model runs, so other threads tokenize and pool
        meanwhile. Measured with openvino 2026.4.1 (CPU, 2 cores): `InferRequest.infer`
        releases it just as `start_async` + `wait` do (a spinning Python thread kept running
        through both), and for a 1 x 8 batch it took 3.8 ms wall / 7.6 ms CPU against 4.3 /
        8.6 ms for `start_async` + `wait`, whose hand-off to the plugin's own thread costs a
        wake-up. Concurrency comes from one caller thread per infer request (the batcher's
        slots), so the synchronous call is used.

        `share_outputs`: the call returns views of the request's output tensors rather than
        copies of every output; the hidden states are read from the request below anyway, so
        the copy (N x L x D floats: 12 MiB for 32 x 256 x 384) was made only to be dropped.
        `share_inputs`: the request reads the batch's arrays in place instead of copying each
        into its own input tensor (OpenVINO still converts an array whose dtype the port does
        not take): `benchmarks/input_handover.py` measured 73 against 110 µs per call for
        three 1 x 4 inputs, 79 against 119 µs at 32 x 256 (AVX2, 2026-12-07). Every call on
        these requests (this one and `_recover`) shares its inputs, so a request never copies
        into the arrays of an earlier batch.
        """
        try:
            req.infer(self._feeds(batch), share_inputs=True, share_outputs=True)
        except RuntimeError:
            self._recover(req)
            raise
        hidden: Float32Array = req.get_output_tensor(self._output).data
        return hidden

    def _recover(self, req: openvino.InferRequest) -> None:
        """Run a 1-token inference after a failed one, so the failure does not leak.

        Measured with openvino 2026.4.1 (CPU): after an inference fails in shape inference
        (e.g. 600 tokens on a 512-position model), the next inference of the same stream may
        fail too, once, even on a shape that worked before and on another InferRequest; one
        throw-away inference clears it. Without this, a request that breaks the model would
        fail an innocent one after it (its batch-mate's retry, or the next request).
        """
        one = np.zeros((1, 1), dtype=np.int64)
        for _ in range(2):
            try:
                req.infer(
                    self._feeds(TokenBatch(input_ids=one, attention_mask=one + 1, token_type_ids=one)),
                    share_inputs=True,
                )
                return
            except RuntimeError:
                continue

    def _feeds(self, batch: TokenBatch) -> dict[int, Int64Array]:
        feeds: dict[int, Int64Array] = {}
        for index, name in self._inputs:
            if name == "position_ids":
                feeds[index] = position_ids(batch.attention_mask)
            else:
                feeds[index] = getattr(batch, name)
        return feeds


def _pick_output(compiled: openvino.CompiledModel, output_name: str, rank: int, *, where: str) -> int:
    for index, port in enumerate(compiled.outputs):
        if output_name:
            if output_name in port.get_names():
                return index
            continue
        shape = port.get_partial_shape()
        if shape.rank.is_static and shape.rank.get_length() == rank:
            return index
    if output_name:
        raise ConfigError(f"{where}: the model has no output named {output_name!r}")
    layout = "[batch, sequence, hidden]" if rank == 3 else "[batch, labels]" if rank == 2 else "?"
    raise ConfigError(f"{where}: the model has no output of rank {rank} ({layout})")
