"""Single calculators and graph variants on the real model, against numpy references.

The references are computed here from the same model output (hidden states of
`FeatureExtractionCalculator`) with per-row numpy code, independent of `calculators.vectors`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pytest

from ovserve.errors import ConfigError, InvalidArgument
from ovserve.graph.formats.embeddings import EmbeddingsInput
from ovserve.graph.runner import Graph
from ovserve.testing import CalculatorRunner
from tests.calculators.support import LONG_TEXT, TEXTS, embed, run_graph

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

pytestmark = pytest.mark.slow

Hidden = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]
SHORT_TEXTS = tuple(t for t in TEXTS if t not in (LONG_TEXT, "a " * 300))  # all under 256 tokens
TOKENIZER_NODE = """
  calculator: "TokenizerCalculator"
  input_side_packet: "TOKENIZER:tokenizer"
  input_side_packet: "MODEL:model"
  input_stream: "INPUT:documents"
  output_stream: "INPUT_IDS:input_ids"
  output_stream: "ATTENTION_MASK:attention_mask"
  output_stream: "TOKEN_TYPE_IDS:token_type_ids"
  output_stream: "PROMPT_TOKENS:prompt_tokens"
  node_options: { [type.googleapis.com/ovserve.calculators.TokenizerCalculatorOptions]: { truncate: true } }
"""
FEATURES_NODE = """
  calculator: "FeatureExtractionCalculator"
  input_side_packet: "MODEL:model"
  input_stream: "INPUT_IDS:input_ids"
  input_stream: "ATTENTION_MASK:attention_mask"
  input_stream: "TOKEN_TYPE_IDS:token_type_ids"
  output_stream: "HIDDEN_STATES:hidden_states"
"""
POOLING_NODE = """
  calculator: "PoolingCalculator"
  input_stream: "HIDDEN_STATES:hidden_states"
  input_stream: "ATTENTION_MASK:attention_mask"
  output_stream: "EMBEDDINGS:pooled"
  node_options: { [type.googleapis.com/ovserve.calculators.PoolingCalculatorOptions]: { mode: %s } }
"""


def array(value: object) -> npt.NDArray[np.generic]:
    assert isinstance(value, np.ndarray)
    return value


def int64(value: object) -> Ids:
    return array(value).astype(np.int64)


def float32(value: object) -> Hidden:
    return array(value).astype(np.float32)


def tokenize(graph: Graph, documents: EmbeddingsInput) -> dict[str, object]:
    sides = {"TOKENIZER": graph.side_packet("tokenizer"), "MODEL": graph.side_packet("model")}
    with CalculatorRunner(TOKENIZER_NODE, side_packets=sides) as runner:
        return runner.run(INPUT=documents)


def hidden_states(graph: Graph, ids: Ids, mask: Ids, types: Ids) -> Hidden:
    with CalculatorRunner(FEATURES_NODE, side_packets={"MODEL": graph.side_packet("model")}) as runner:
        out = runner.run(INPUT_IDS=ids, ATTENTION_MASK=mask, TOKEN_TYPE_IDS=types)
    hidden = array(out["HIDDEN_STATES"])
    assert hidden.dtype == np.float32
    return hidden.astype(np.float32)


def numpy_pool(hidden: Hidden, mask: Ids, mode: str) -> Hidden:
    rows = []
    for h, m in zip(hidden, mask, strict=True):
        n = int(m.sum())
        if mode == "CLS":
            rows.append(h[0])
        elif mode == "LAST":
            rows.append(h[n - 1])
        else:
            rows.append(h[:n].astype(np.float64).mean(axis=0))
    return np.stack(rows).astype(np.float32)


def unit(vectors: Hidden) -> Hidden:
    norms: Hidden = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / norms).astype(np.float32)


@pytest.fixture(scope="module")
def short_batch(native_graph: Graph) -> tuple[Ids, Hidden]:
    """Attention mask and hidden states of SHORT_TEXTS, from the calculators one by one."""
    tokens = tokenize(native_graph, EmbeddingsInput(texts=SHORT_TEXTS))
    ids, mask, types = (
        array(tokens[k]).astype(np.int64) for k in ("INPUT_IDS", "ATTENTION_MASK", "TOKEN_TYPE_IDS")
    )
    return mask, hidden_states(native_graph, ids, mask, types)


def test_tokenizer_cuts_as_hugging_face(
    native_graph: Graph, sentence_transformer: SentenceTransformer
) -> None:
    tokens = tokenize(native_graph, EmbeddingsInput(texts=TEXTS))
    expected = sentence_transformer.tokenize(list(TEXTS))  # max_seq_length 256, padded to longest
    np.testing.assert_array_equal(array(tokens["INPUT_IDS"]), expected["input_ids"].numpy())
    np.testing.assert_array_equal(array(tokens["ATTENTION_MASK"]), expected["attention_mask"].numpy())
    np.testing.assert_array_equal(array(tokens["TOKEN_TYPE_IDS"]), expected["token_type_ids"].numpy())
    assert tokens["PROMPT_TOKENS"] == int(expected["attention_mask"].sum())
    ids = array(tokens["INPUT_IDS"])
    assert ids.shape[1] == 256
    assert ids[-1, 0] == 101  # [CLS] ... [SEP] kept on the cut row
    assert ids[-1, -1] == 102


@pytest.mark.parametrize("mode", ["CLS", "MEAN", "LAST"])
def test_pooling_matches_numpy(mode: str, short_batch: tuple[Ids, Hidden]) -> None:
    mask, hidden = short_batch
    with CalculatorRunner(POOLING_NODE % mode) as runner:
        pooled = float32(runner.run(HIDDEN_STATES=hidden, ATTENTION_MASK=mask)["EMBEDDINGS"])
    np.testing.assert_allclose(pooled, numpy_pool(hidden, mask, mode), rtol=1e-5, atol=1e-6)


def test_cls_graph_normalized(cls_graph: Graph, short_batch: tuple[Ids, Hidden]) -> None:
    mask, hidden = short_batch
    vectors = embed(cls_graph, SHORT_TEXTS).embeddings
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors, unit(numpy_pool(hidden, mask, "CLS")), atol=1e-5)


def test_last_graph_without_normalization(
    last_raw_strict_graph: Graph, short_batch: tuple[Ids, Hidden]
) -> None:
    mask, hidden = short_batch
    vectors = embed(last_raw_strict_graph, SHORT_TEXTS).embeddings
    expected = numpy_pool(hidden, mask, "LAST")
    np.testing.assert_allclose(vectors, expected, rtol=1e-4, atol=1e-5)
    assert np.abs(np.linalg.norm(vectors, axis=1) - 1.0).min() > 1e-3  # really not normalised


def test_truncate_off_rejects_the_whole_batch(
    last_raw_strict_graph: Graph, sentence_transformer: SentenceTransformer
) -> None:
    n = len(sentence_transformer.tokenizer(LONG_TEXT)["input_ids"])
    with pytest.raises(InvalidArgument) as info:
        embed(last_raw_strict_graph, ("short", LONG_TEXT))
    prefix = 'Calculator::Process() for node "EmbeddingsExecutor" failed: '
    assert info.value.message == f"{prefix}Input length {n} longer than allowed 256"


def test_token_id_input(native_graph: Graph, sentence_transformer: SentenceTransformer) -> None:
    rows = [sentence_transformer.tokenizer(t)["input_ids"] for t in ("Hello, world!", "Short", "日本語")]
    result = run_graph(native_graph, {"input": rows})
    assert result.prompt_tokens == sum(len(r) for r in rows)
    # Reference: right-padded with pad id 0, mask 1 on ids, token_type_ids 1 (the OVMS quirk).
    longest = max(len(r) for r in rows)
    ids = np.array([r + [0] * (longest - len(r)) for r in rows], dtype=np.int64)
    mask = np.array([[1] * len(r) + [0] * (longest - len(r)) for r in rows], dtype=np.int64)
    hidden = hidden_states(native_graph, ids, mask, np.ones_like(ids))
    np.testing.assert_allclose(result.embeddings, unit(numpy_pool(hidden, mask, "MEAN")), atol=1e-5)
    single = run_graph(native_graph, {"input": rows[1]})
    np.testing.assert_allclose(single.embeddings, result.embeddings[1:2], atol=1e-5)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[101] * 257], "Input length 257 longer than allowed 256"),
        ([[101, 30522, 102]], r"token id 30522 is out of the vocabulary range \[0, 30522\)"),
        ([[101, -5, 102]], "token id -5 is out of the vocabulary range"),
    ],
)
def test_token_id_input_rejected(native_graph: Graph, rows: list[list[int]], message: str) -> None:
    with pytest.raises(InvalidArgument, match=f'node "Tokenizer" failed: {message}'):
        run_graph(native_graph, EmbeddingsInput(token_ids=tuple(tuple(r) for r in rows)))


def test_max_length_beyond_the_model_limit_fails_the_load(native_graph: Graph) -> None:
    node = TOKENIZER_NODE.replace("truncate: true", "max_length: 513")
    sides = {"TOKENIZER": native_graph.side_packet("tokenizer"), "MODEL": native_graph.side_packet("model")}
    with pytest.raises(ConfigError, match="max_length 513 exceeds the model limit 512"):
        CalculatorRunner(node, side_packets=sides)


def test_concurrent_runs_do_not_interfere(native_graph: Graph) -> None:
    texts = [(t,) for t in SHORT_TEXTS[:8]] * 4
    expected = {t: embed(native_graph, t).embeddings for t in set(texts)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: embed(native_graph, t).embeddings, texts))
    for text, got in zip(texts, results, strict=True):
        np.testing.assert_allclose(got, expected[text], atol=1e-6)


def test_request_errors_name_the_ovms_node(new_graph: Graph) -> None:
    with pytest.raises(InvalidArgument) as info:
        run_graph(new_graph, {"input": []})
    assert info.value.message == (
        'Calculator::Process() for node "EmbeddingsExecutor" failed: input array should not be empty'
    )
