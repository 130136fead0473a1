"""FeatureExtractionCalculator: token tensors → the model's `[N, L, D]` hidden states (OpenVINO),
or, with the `EMBEDDINGS` output, their pooled `[N, D]` vectors.

Example config:
    node {
      name: "Embeddings"
      calculator: "FeatureExtractionCalculator"
      input_side_packet: "MODEL:model"
      input_stream: "INPUT_IDS:input_ids"
      input_stream: "ATTENTION_MASK:attention_mask"
      input_stream: "TOKEN_TYPE_IDS:token_type_ids"
      output_stream: "HIDDEN_STATES:hidden_states"
      node_options: {
        [type.googleapis.com/ovserve.calculators.FeatureExtractionCalculatorOptions]: {
          batching { enabled: true max_batch_size: 64 max_batch_tokens: 8192 }
        }
      }
    }

Connect `EMBEDDINGS` instead of `HIDDEN_STATES` (one of the two) and the node pools each row
at the model's output, then L2-normalises it unless `normalize { enabled: false }`:
`pooling` and `normalize` take PoolingCalculatorOptions and NormalizeCalculatorOptions and
mean what they mean to those calculators (`mode: AUTO` detected from the model at load), so
the vectors are those of a Pooling and a Normalize node after `HIDDEN_STATES`. This is how
the OVMS graph forms run (`calculators.embeddings_chain`): the `[N, L, D]` hidden states are
then neither copied out of the infer request nor handed between nodes (for 32 texts of 256
tokens that is 12 MiB per request), and two nodes fewer run per request.

`MODEL` is a loaded feature-extraction model (an `OpenVINOModelServerSessionCalculator` session or
an `EmbeddingsServableCalculator` model); its compiled form is shared by all runs, each run borrows
an `InferRequest`. The model is fed only the inputs it declares (`token_type_ids` is optional and
zero when not connected); the output is the first of rank 3 unless
`FeatureExtractionCalculatorOptions.output_name` names one. A model without such an output fails
the graph at load, as in OVMS.

Batching (`calculators.batching`): with `batching.enabled` (the server default unless the node
says otherwise), concurrent runs of this node hand their rows to one `DynamicBatcher`, which
merges those that queue while the model is busy into few inferences (token budget counting
padded tokens, rows grouped by length, no wait timer) on the compiled model's optimal number
of infer requests, and gives each run exactly its own rows back (pooled inside the batch, row
by row, when `EMBEDDINGS` is connected). Unset fields take the server's defaults, the graph
service `ovserve.graph.BATCHING`; its batch sizes reach `Graph.stats()`. `enabled: false` runs
each request alone, as OVMS does. Either way, the result is `[N, L, D]` (or `[N, D]`) for the
run's own `[N, L]` input.

At load the node reads back what the compiled model runs (`ovserve.runtime.execution`: f32 or
bf16, int8 activations or not) and logs it with the batch-invariance bound that follows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from calculators import batching, model_facts
from calculators.batching import DynamicBatcher
from calculators.normalize_calculator import normalize_enabled
from calculators.ov_model import FeatureExtractor
from calculators.pooling_calculator import resolve_mode
from calculators.vectors import Pooler
from ovserve._proto.ovserve.calculators.feature_extraction_calculator_pb2 import (
    FeatureExtractionCalculatorOptions,
)
from ovserve._proto.ovserve.calculators.sequence_classification_calculator_pb2 import (
    SequenceClassificationCalculatorOptions,
)
from ovserve.errors import ConfigError
from ovserve.graph import (
    BATCHING,
    BatchCalculator,
    BatchSettings,
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
from ovserve.graph.formats.arrays import Float32Array, Int64Array
from ovserve.graph.formats.tokens import TokenBatch
from ovserve.runtime.execution import Execution

if TYPE_CHECKING:
    import openvino

MODEL = InputSidePacket[LoadedModel]("MODEL")
INPUT_IDS = Input[Int64Array]("INPUT_IDS")
ATTENTION_MASK = Input[Int64Array]("ATTENTION_MASK")
TOKEN_TYPE_IDS = Input[Int64Array]("TOKEN_TYPE_IDS", optional=True)
HIDDEN_STATES = Output[Float32Array]("HIDDEN_STATES")
EMBEDDINGS = Output[Float32Array]("EMBEDDINGS")

_log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Extraction:
    """Per-node state made at load, shared by all runs (thread-safe)."""

    extractor: FeatureExtractor
    batcher: DynamicBatcher[openvino.InferRequest] | None
    execution: Execution
    """What the compiled model runs, read back at load."""
    pooler: Pooler | None = None
    """Pools (and normalises) each row at the model's output: results are `[N, D]` vectors."""

    def batch_size_counts(self) -> Mapping[int, int]:
        """Inferences by rows (`ovserve.graph.ReportsBatches`); empty when not batching."""
        return {} if self.batcher is None else self.batcher.batch_size_counts()

    def concurrent_batches(self) -> int:
        """Batches the model runs at once (`ovserve.graph.entry.ConcurrentBatches`): its infer
        requests (the batcher's slots, else the compiled model's optimal number)."""
        return self.batcher.slots if self.batcher is not None else self.extractor.optimal_requests()

    def run(self, batch: TokenBatch) -> Float32Array:
        return self.run_many([batch], [request_scope.current()])[0]

    def run_many(
        self, batches: Sequence[TokenBatch], scopes: Sequence[request_scope.RequestScope | None]
    ) -> list[Float32Array]:
        """Each batch's output, its times reported to its scope; raises the first model error."""
        if self.batcher is not None:
            return self.batcher.run_many(batches, scopes)  # reports queue and inference times
        hidden = []
        for batch, scope in zip(batches, scopes, strict=True):
            started = time.perf_counter()
            hidden.append(self.extractor.run(batch, self.pooler))
            if scope is not None:
                scope.inference_s += time.perf_counter() - started
        return hidden


def make_extraction(
    model: LoadedModel,
    options: FeatureExtractionCalculatorOptions | SequenceClassificationCalculatorOptions,
    *,
    defaults: BatchSettings,
    where: str,
    per_sequence: bool = False,
    pooler: Pooler | None = None,
) -> Extraction:
    """The extractor of `model` and, when batching is on (`options` over `defaults`), its batcher.

    `options` is a `FeatureExtractionCalculatorOptions` or any message with the same
    `output_name` and `batching` fields. `per_sequence`: the output is the rank-2 `[N, labels]`
    of a sequence classifier (default name `logits`) instead of rank-3 hidden states.
    `pooler`: each row's hidden states are pooled at the model's output (`[N, D]` results).

    Raises:
        ConfigError: the model cannot be fed or has no such output; bad batching limits.
    """
    output_name = options.output_name or ("logits" if per_sequence else "")
    extractor = FeatureExtractor(
        model.compiled, output_name=output_name, rank=2 if per_sequence else 3, where=where
    )
    execution = Execution.of(model.compiled, model.model)
    _log.info("%s: model %s version %d runs %s", where, model.name, model.version, execution.describe())
    settings = batching.resolve(options.batching, base=defaults, where=where)
    if not settings.enabled:
        return Extraction(extractor=extractor, batcher=None, execution=execution, pooler=pooler)
    info = model_facts.model_info(model.model)
    limit = model_facts.positional_limit(info, model_facts.hf_config(model.path)) or 0
    slots = [model.compiled.create_infer_request() for _ in range(extractor.optimal_requests())]
    infer = extractor.infer
    if pooler is not None:
        # Pooled on the leader's thread while the batch's output is still in its request:
        # reading it once for the vectors is cheaper than copying it out for a later node.

        def infer(req: openvino.InferRequest, batch: TokenBatch) -> Float32Array:
            return pooler(extractor.infer(req, batch), batch.attention_mask)

    batcher = DynamicBatcher(infer, slots, settings, limit=limit, per_row=per_sequence or pooler is not None)
    return Extraction(extractor=extractor, batcher=batcher, execution=execution, pooler=pooler)


def input_batch(ctx: CalculatorContext) -> TokenBatch:
    """The run's `INPUT_IDS` / `ATTENTION_MASK` / `TOKEN_TYPE_IDS` streams as int64 (types zero
    when not connected); shared by every node that feeds a model these ports."""
    ids = np.asarray(ctx.get(INPUT_IDS), dtype=np.int64)
    types = np.asarray(ctx.get(TOKEN_TYPE_IDS), dtype=np.int64) if ctx.has(TOKEN_TYPE_IDS) else None
    return TokenBatch(
        input_ids=ids,
        attention_mask=np.asarray(ctx.get(ATTENTION_MASK), dtype=np.int64),
        token_type_ids=types if types is not None else np.zeros_like(ids),
    )


@register_calculator
class FeatureExtractionCalculator(BatchCalculator):
    """Runs the embeddings model for requests, merged with concurrent ones when batching.

    A batch call waits for the model's infer requests (`process_in_batches(waits=True)`); the
    node state says how many there are (`Extraction.concurrent_batches`), and the graph's entry
    holds the next batch back until one of them is free (`ovserve.graph.entry`).
    """

    @classmethod
    def get_contract(cls, cc: CalculatorContract) -> None:
        # The node emits one of the two, so the one it is written with is the one required.
        tags = {stream.split(":")[0] for stream in cc.node.output_stream}
        if {HIDDEN_STATES.tag, EMBEDDINGS.tag} <= tags:
            raise ConfigError(
                "connect HIDDEN_STATES (the model's hidden states) or EMBEDDINGS (pooled vectors), not both"
            )
        output = EMBEDDINGS if EMBEDDINGS.tag in tags else HIDDEN_STATES
        cc.declare(MODEL, INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS, output)
        cc.set_options(FeatureExtractionCalculatorOptions)
        cc.process_in_batches(waits=True)

    @classmethod
    def load(cls, lc: GraphLoadContext) -> None:
        options = lc.options(FeatureExtractionCalculatorOptions)
        model = lc.side(MODEL)
        pooler = None
        if EMBEDDINGS.tag in lc.output_streams:
            mode = resolve_mode(options.pooling, model, where=lc.node_name)
            pooler = Pooler(mode, normalize=normalize_enabled(options.normalize))
        elif options.HasField("pooling") or options.HasField("normalize"):
            raise ConfigError(f"{lc.node_name}: pooling and normalize options need the EMBEDDINGS output")
        lc.node_state = make_extraction(
            model, options, defaults=lc.service(BATCHING), where=lc.node_name, pooler=pooler
        )

    @classmethod
    def process_batch(cls, contexts: Sequence[CalculatorContext]) -> None:
        state: Extraction = contexts[0].node_state
        results = state.run_many([input_batch(ctx) for ctx in contexts], [ctx.scope for ctx in contexts])
        output = HIDDEN_STATES if state.pooler is None else EMBEDDINGS
        for ctx, out in zip(contexts, results, strict=True):
            ctx.set(output, out)
