"""The tokenize branch of every graph form against the Hugging Face tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ovserve.errors import ErrorCode, OvserveError
from ovserve.graph.formats.tokenize import TokenizeBody, TokenizeResult
from ovserve.graph.runner import Graph
from tests.calculators.support import LONG_TEXT, NATIVE_GRAPH, TEXTS, load_text_graph
from tests.support.models import default_model_source

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

pytestmark = pytest.mark.slow

FORMS = ["native_graph", "old_graph", "new_graph"]


@pytest.fixture(scope="module")
def hf_tokenizer() -> PreTrainedTokenizerBase:
    # The reference only: the calculators never import transformers.
    from transformers import AutoTokenizer

    tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(str(default_model_source()))
    return tokenizer


def tokenize(graph: Graph, body: dict[str, object]) -> TokenizeResult:
    result = graph.run_sync({"input": TokenizeBody(body)})["output"]
    assert isinstance(result, TokenizeResult)
    return result


def expected(hf: PreTrainedTokenizerBase, texts: list[str], **options: Any) -> list[list[int]]:
    ids: list[list[int]] = hf(texts, **options)["input_ids"]
    return ids


@pytest.mark.parametrize("form", FORMS)
def test_texts_give_the_hugging_face_ids_without_padding_or_cut(
    form: str, request: pytest.FixtureRequest, hf_tokenizer: PreTrainedTokenizerBase
) -> None:
    graph: Graph = request.getfixturevalue(form)
    got = tokenize(graph, {"text": list(TEXTS)})
    assert not got.single
    # The long text is longer than the graph's cut: tokenize reports every token.
    assert [list(row) for row in got.tokens] == expected(hf_tokenizer, list(TEXTS))
    assert max(len(row) for row in got.tokens) > 256


@pytest.mark.parametrize(
    "options",
    [
        {"max_length": 16},
        {"max_length": 3},
        {"add_special_tokens": False},
        {"add_special_tokens": False, "max_length": 5},
        {"max_length": 12, "pad_to_max_length": True},
        {"max_length": 12, "pad_to_max_length": True, "padding_side": "left"},
        {"max_length": 12, "pad_to_max_length": True, "add_special_tokens": False},
    ],
)
def test_options_match_the_hugging_face_tokenizer(
    native_graph: Graph, hf_tokenizer: PreTrainedTokenizerBase, options: dict[str, object]
) -> None:
    texts = ["Hello, world!", "The quick brown fox jumps over the lazy dog.", "Short"]
    got = tokenize(native_graph, {"text": texts, **options})
    hf_options: dict[str, Any] = {"add_special_tokens": options.get("add_special_tokens", True)}
    if "max_length" in options:
        hf_options.update(max_length=options["max_length"], truncation=True)
    if options.get("pad_to_max_length"):
        hf_options.update(padding="max_length", padding_side=options.get("padding_side", "right"))
    assert [list(row) for row in got.tokens] == expected(hf_tokenizer, texts, **hf_options)


def test_one_string_answers_one_row(native_graph: Graph, hf_tokenizer: PreTrainedTokenizerBase) -> None:
    got = tokenize(native_graph, {"text": "Hello, world!"})
    assert got.single
    assert [list(row) for row in got.tokens] == expected(hf_tokenizer, ["Hello, world!"])


def test_an_empty_list_answers_no_rows(native_graph: Graph) -> None:
    assert tokenize(native_graph, {"text": []}).tokens == ()


def test_pad_to_max_length_alone_pads_to_the_graph_maximum(native_graph: Graph) -> None:
    (row,) = tokenize(native_graph, {"text": ["Short"], "pad_to_max_length": True}).tokens
    # The export records sentence-transformers' max_seq_length (256) as the graph's maximum.
    assert len(row) == 256
    assert row[3:] == (0,) * 253


def test_embeddings_still_run_after_a_tokenize_call(native_graph: Graph) -> None:
    from tests.calculators.support import embed

    tokenize(native_graph, {"text": LONG_TEXT})
    assert embed(native_graph, ("Hello",)).embeddings.shape == (1, 384)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "text field is required"),
        ({"text": 5}, "Input should be string or array of strings"),
        ({"text": ["a", 1]}, "Input should be string or array of strings"),
        ({"text": "a", "max_length": 0}, "max_length should be greater than 0"),
        ({"text": "a", "max_length": -3}, "max_length should be unsigned integer"),
        ({"text": "a", "max_length": 2.5}, "max_length should be unsigned integer"),
        ({"text": "a", "max_length": True}, "max_length should be unsigned integer"),
        ({"text": "a", "pad_to_max_length": "yes"}, "pad_to_max_length should be boolean"),
        ({"text": "a", "add_special_tokens": 1}, "add_special_tokens should be boolean"),
        ({"text": "a", "padding_side": "up"}, "padding_side should be either left or right"),
        (
            {"text": "a", "max_length": 9_999_999_999, "pad_to_max_length": True},
            "max_length 9999999999 exceeds the maximum length 256 of this graph (pad_to_max_length)",
        ),
    ],
)
def test_bad_bodies_are_refused_with_the_ovms_message(
    native_graph: Graph, body: dict[str, object], message: str
) -> None:
    with pytest.raises(OvserveError) as caught:
        tokenize(native_graph, body)
    assert caught.value.code == ErrorCode.INVALID_ARGUMENT
    assert caught.value.message.endswith(f'" failed: {message}')


def test_a_graph_without_the_tokenize_branch_says_so(flat_fp32: Path, tmp_path: Path) -> None:
    text = NATIVE_GRAPH.read_text()
    for line in (
        '  output_stream: "TOKENIZE:tokenize_request"\n',
        '  input_stream: "TOKENIZE:tokenize_request"\n',
    ):
        assert line in text
        text = text.replace(line, "")
    graph = load_text_graph(tmp_path, text, flat_fp32)
    try:
        with pytest.raises(OvserveError) as caught:
            tokenize(graph, {"text": "a"})
        assert caught.value.code == ErrorCode.UNIMPLEMENTED
        assert "does not serve tokenize" in caught.value.message
    finally:
        graph.close()
