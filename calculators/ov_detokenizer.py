"""Running an openvino-tokenizers detokenizer: token ids → text, with or without special tokens.

Where the detokenizer is found (`find_detokenizer`), next to the tokenizer model a graph loads:
  * `<folder>/openvino_detokenizer.xml`: the flat (`EmbeddingsCalculatorOV`) folder, where
    optimum-cli and `ovserve export … --layout flat` write it;
  * `<tokenizer version folder>/detokenizer/openvino_detokenizer.xml`: the versioned form, where
    `ovserve export` writes it. A subfolder, because OVMS reads a version folder's model from the
    first `*.xml` file it lists there (it does not look into subfolders): a second `.xml` beside
    `model.xml` could be picked instead of it.
OVMS's own versioned exports write none; a graph without one serves embeddings as before, and its
TEI `/tokenize` and `/decode` answer UNIMPLEMENTED naming the file.

openvino_tokenizers converts the special-token skip list into the model: the fifth input of its
`VocabDecoder` is a constant of the ids to leave out (the Hugging Face tokenizer's special ids
with `skip_special_tokens=True`, the default of `convert_tokenizer` and optimum-cli; empty
without). `Detokenizer` reads that list as the graph's special ids and compiles a second variant
whose list is empty, so that each request chooses.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ovserve.errors import ConfigError, InvalidArgument, Unimplemented
from ovserve.runtime.infer_pool import InferRequestPool

if TYPE_CHECKING:
    import openvino

DETOKENIZER_FILE = "openvino_detokenizer.xml"
VERSIONED_SUBFOLDER = "detokenizer"
# Infer requests per compiled variant: decode calls are short and rare next to embeddings.
DETOKENIZER_REQUESTS = 2
# One thread per call, as for the tokenizer (`calculators.ov_tokenizer.TOKENIZER_PROPERTIES`).
DETOKENIZER_PROPERTIES = {"INFERENCE_NUM_THREADS": 1}


def find_detokenizer(tokenizer_folder: Path) -> Path | None:
    """The detokenizer beside the tokenizer read from `tokenizer_folder`, None if it has none."""
    for candidate in (
        tokenizer_folder / DETOKENIZER_FILE,
        tokenizer_folder / VERSIONED_SUBFOLDER / DETOKENIZER_FILE,
    ):
        if candidate.is_file() and candidate.with_suffix(".bin").is_file():
            return candidate
    return None


class Detokenizer:
    """Token ids → strings; thread-safe, shared by every run of one tokenizer node.

    Attributes:
        special_ids: the ids the detokenizer was converted to skip (the tokenizer's special
            tokens); empty when it was converted to keep them.
        vocab_size: ids run from 0 to `vocab_size - 1`.
    """

    def __init__(self, core: openvino.Core, model: openvino.Model, *, where: str) -> None:
        decoders = [op for op in model.get_ordered_ops() if op.get_type_name() == "VocabDecoder"]
        if len(decoders) != 1:
            raise ConfigError(
                f"{where}: the detokenizer model has {len(decoders)} VocabDecoder operations, not 1"
            )
        decoder = decoders[0]
        vocab = decoder.input(1).get_partial_shape()
        if not vocab.rank.is_static or vocab.rank.get_length() != 1 or not vocab[0].is_static:
            raise ConfigError(f"{where}: the detokenizer's vocabulary has no static size")
        self.vocab_size = vocab[0].get_length()
        skip = _skip_list(decoder)
        self.special_ids: frozenset[int] = frozenset(int(i) for i in skip)
        keeping = _without_skip_list(model) if self.special_ids else model
        self._skipping = _compile(core, model)
        self._keeping = _compile(core, keeping) if self.special_ids else self._skipping
        self._raw = _compile(core, _vocabulary_bytes(keeping))

    def decode(self, rows: Sequence[Sequence[int]], *, skip_special_tokens: bool) -> list[str]:
        """Each row of ids decoded into one string, as the Hugging Face tokenizer's `decode`.

        Raises:
            InvalidArgument: an id outside 0..vocab_size-1.
        """
        self._check(rows)
        pool = self._skipping if skip_special_tokens else self._keeping
        # One call per row: rows differ in length, and no id is safe padding when nothing is skipped.
        return [_run(pool, np.asarray([row], dtype=np.int64))[0] if row else "" for row in rows]

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """The text of every id decoded alone, special tokens kept (one call for all of them)."""
        self._check([ids])
        if not ids:
            return []
        return _run(self._keeping, np.asarray(ids, dtype=np.int64).reshape(-1, 1))

    def raw_pieces(self, ids: Sequence[int]) -> list[bytes]:
        """Each id's entry in the vocabulary, as bytes, before the decoder's clean-up (no `##`
        merging, no space handling, no UTF-8 repair): what byte-level BPE tokens hold exactly."""
        self._check([ids])
        if not ids:
            return []
        import openvino

        with self._raw.request() as req:
            req.infer({0: openvino.Tensor(np.asarray(ids, dtype=np.int64).reshape(-1, 1))})
            begins, ends, chars = (np.asarray(req.get_output_tensor(i).data) for i in range(3))
        data = chars.tobytes()
        return [data[begin:end] for begin, end in zip(begins.tolist(), ends.tolist(), strict=True)]

    def _check(self, rows: Sequence[Sequence[int]]) -> None:
        for row in rows:
            for token in row:
                if not 0 <= token < self.vocab_size:
                    raise InvalidArgument(
                        f"token id {token} is outside this model's vocabulary (0..{self.vocab_size - 1})"
                    )


def _skip_list(decoder: openvino.Node) -> list[int]:
    if decoder.get_input_size() < 5:
        return []
    source = decoder.input_value(4).get_node()
    if source.get_type_name() != "Constant":
        return []
    return [int(i) for i in np.asarray(source.get_data()).reshape(-1)]


def _without_skip_list(model: openvino.Model) -> openvino.Model:
    """A copy of `model` whose `VocabDecoder` skips nothing."""
    from openvino import opset13

    copy = model.clone()
    for op in copy.get_ordered_ops():
        if op.get_type_name() == "VocabDecoder":
            kind = op.input(4).get_element_type()
            op.input(4).replace_source_output(opset13.constant(np.zeros(0), dtype=kind).output(0))
    copy.validate_nodes_and_infer_types()
    return copy


def _vocabulary_bytes(model: openvino.Model) -> openvino.Model:
    """`model` cut after its `VocabDecoder`: outputs its per-token begins, ends and bytes."""
    import openvino

    decoder = next(op for op in model.get_ordered_ops() if op.get_type_name() == "VocabDecoder")
    return openvino.Model([decoder.output(i) for i in (2, 3, 4)], list(model.get_parameters()))


def _compile(core: openvino.Core, model: openvino.Model) -> InferRequestPool:
    compiled = core.compile_model(model, "CPU", DETOKENIZER_PROPERTIES)
    return InferRequestPool(compiled, limit=DETOKENIZER_REQUESTS)


def _run(pool: InferRequestPool, ids: np.ndarray) -> list[str]:
    import openvino

    with pool.request() as req:
        result = req.infer({0: openvino.Tensor(ids)})
        return [str(text) for text in next(iter(result.values()))]


class LazyDetokenizer:
    """The detokenizer beside a tokenizer, read and compiled by its first use (most graphs never
    decode, and each compile costs load time); thread-safe."""

    def __init__(self, core: openvino.Core, tokenizer_folder: Path, *, where: str) -> None:
        self._core = core
        self._folder = tokenizer_folder
        self._path = find_detokenizer(tokenizer_folder)
        self._where = where
        self._lock = threading.Lock()
        self._value: Detokenizer | None = None
        self._failure: str | None = None

    def get(self) -> Detokenizer:
        """The detokenizer, loaded on the first call.

        Raises:
            Unimplemented: there is none, or it cannot be loaded (the message says which, and where).
        """
        with self._lock:
            if self._value is not None:
                return self._value
            if self._path is None:
                raise Unimplemented(
                    f"this graph has no detokenizer: looked for {self._folder / DETOKENIZER_FILE} and "
                    f"{self._folder / VERSIONED_SUBFOLDER / DETOKENIZER_FILE} (`ovserve export` writes it)"
                )
            if self._failure is None:
                try:
                    self._value = Detokenizer(
                        self._core, self._core.read_model(self._path), where=self._where
                    )
                    return self._value
                except Exception as exc:  # a broken file: the graph still serves everything else
                    self._failure = f"cannot load the detokenizer {self._path}: {exc}"
            raise Unimplemented(self._failure)
