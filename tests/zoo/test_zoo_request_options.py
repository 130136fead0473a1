"""A request's `prompt_name`, `truncate` and `truncate_prompt_tokens` on every zoo architecture,
against sentence-transformers and the Hugging Face tokenizer (`ovserve.graph.formats.text_options`).

Prompts: `SentenceTransformer.encode(texts, prompt_name=...)` is the reference, alone, in one
request and in merged batches; the tokens a prompt adds are counted. Truncation: the zoo graphs
are exported with `--truncate` at `max_seq_length` 128 (M); a strict variant of the same graph
(`truncate: false`) refuses long texts unless the request asks for a cut. A cut to N must feed
the model what the HF tokenizer gives with `truncation=True, max_length=N` (the reference is
sentence-transformers with `max_seq_length` N).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from calculators.tokenizer_calculator import _Tokenization
from ovserve.errors import InvalidArgument
from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsRequest, EmbeddingsResult
from ovserve.graph.formats.text_options import Cut, TextOptions
from ovserve.graph.runner import Graph
from tests.calculators.support import LONG_TEXT, load_text_graph, run_graph, variant_of_flat_graph
from tests.support.models import graph_dir
from tests.support.zoo import ZOO
from tests.zoo.support import ZOO_TEXTS, ZooCase, prompt_names, st_encode, st_tokens, zoo_workspace
from tests.zoo.test_zoo_models import REQUESTS, assert_close, expect_right_vectors, run_merged

pytestmark = pytest.mark.slow

M = 128
"""The zoo's `max_seq_length`, the graphs' maximum length."""
TEXTS = ZOO_TEXTS[:9]


def embed_with(graph: Graph, texts: tuple[str, ...], **options: object) -> EmbeddingsResult:
    documents = EmbeddingsInput(texts=texts, options=TextOptions(**options))  # type: ignore[arg-type]
    return run_graph(graph, EmbeddingsRequest(input=documents))


def tokenization_of(graph: Graph) -> _Tokenization:
    (state,) = [s for s in graph.node_states().values() if isinstance(s, _Tokenization)]
    return state


@pytest.fixture(scope="session")
def strict(zoo: ZooCase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graph]:
    """The zoo model's flat graph with `truncate: false`: texts longer than M are refused."""
    flat = graph_dir(zoo_workspace(zoo.name, "flat"), f"zoo/{zoo.name}")
    text = variant_of_flat_graph(flat, truncate="truncate: false,")
    graph = load_text_graph(tmp_path_factory.mktemp("strict"), text, flat)
    yield graph
    graph.close()


# -- prompts -----------------------------------------------------------------------------------


def test_a_named_prompt_gives_the_vectors_and_tokens_of_encode_with_it(zoo: ZooCase) -> None:
    bound = expect_right_vectors(zoo)
    for name in prompt_names(zoo):
        want = st_encode(zoo.model, TEXTS, prompt_name=name)
        got = embed_with(zoo.graph, TEXTS, prompt_name=name)
        assert_close(f"{zoo.name}/{name}", got.embeddings, want, bound, TEXTS)
        assert got.prompt_tokens == st_tokens(zoo.model, TEXTS, prompt_name=name)
        alone = np.concatenate([embed_with(zoo.graph, (t,), prompt_name=name).embeddings for t in TEXTS])
        assert_close(f"{zoo.name}/{name} alone", alone, want, bound, TEXTS)


def test_the_default_prompt_applies_when_none_is_named(zoo: ZooCase) -> None:
    """What `encode(texts)` does: bert-prompts has `default_prompt_name` query, qwen3 none."""
    prompt_names(zoo)
    default = ZOO[zoo.name].default_prompt
    assert zoo.model.default_prompt_name == default
    got = embed_with(zoo.graph, TEXTS)
    assert_close(zoo.name, got.embeddings, st_encode(zoo.model, TEXTS), expect_right_vectors(zoo), TEXTS)
    if default is not None:
        named = embed_with(zoo.graph, TEXTS, prompt_name=default)
        np.testing.assert_array_equal(got.embeddings, named.embeddings)
        assert got.prompt_tokens == named.prompt_tokens
    assert got.prompt_tokens == st_tokens(zoo.model, TEXTS)


def test_prompts_in_merged_batches_of_concurrent_requests(zoo: ZooCase) -> None:
    names = [None, *prompt_names(zoo)]
    bound = expect_right_vectors(zoo)
    requests = [
        EmbeddingsInput(texts=texts, options=TextOptions(prompt_name=names[i % len(names)]))
        for i, texts in enumerate(REQUESTS)
    ]
    results = run_merged(zoo.graph, requests)
    for request, result in zip(requests, results, strict=True):
        name = request.options.prompt_name
        want = st_encode(zoo.model, request.texts, prompt_name=name)
        assert_close(f"{zoo.name}/{name}", result.embeddings, want, bound, request.texts)
        assert result.prompt_tokens == st_tokens(zoo.model, request.texts, prompt_name=name)


def test_an_unknown_prompt_name_is_refused_naming_the_known_ones(zoo: ZooCase) -> None:
    prompts = ZOO[zoo.name].prompts
    if prompts:
        known = ", ".join(repr(name) for name in prompts)
        message = f"prompt_name 'nope' is not one of this model's prompts: {known}"
    else:
        message = "prompt_name 'nope' is not available: this model has no prompts"
    with pytest.raises(InvalidArgument, match=f"failed: {message}$"):
        embed_with(zoo.graph, ("text",), prompt_name="nope")


def test_token_ids_take_no_prompt(zoo: ZooCase) -> None:
    ids = tuple(zoo.hf_tokenizer("hello world")["input_ids"])
    with pytest.raises(InvalidArgument, match="prompt_name applies to text input, not to token ids"):
        run_graph(
            zoo.graph,
            EmbeddingsRequest(input=EmbeddingsInput(token_ids=(ids,), options=TextOptions(prompt_name="x"))),
        )
    # Token ids are final: the default prompt is not added to them.
    plain = run_graph(zoo.graph, EmbeddingsRequest(input=EmbeddingsInput(token_ids=(ids,))))
    assert plain.prompt_tokens == len(ids)


# -- truncation --------------------------------------------------------------------------------


def test_a_strict_graph_refuses_a_long_text_unless_the_request_truncates(zoo: ZooCase, strict: Graph) -> None:
    bound = expect_right_vectors(zoo)
    texts = ("Short", LONG_TEXT, "a " * 300)
    with pytest.raises(InvalidArgument, match=rf"Input length \d+ longer than allowed {M}$"):
        embed_with(strict, texts)
    want = st_encode(zoo.model, texts)  # sentence-transformers cuts at max_seq_length = M
    for options in ({"truncate": True}, {"truncate_prompt_tokens": -1}, {"truncate_prompt_tokens": M}):
        got = embed_with(strict, texts, **options)
        assert_close(f"{zoo.name} {options}", got.embeddings, want, bound, texts)
        assert got.prompt_tokens == st_tokens(zoo.model, texts), options


@pytest.mark.parametrize("limit", [5, 16, 64])
def test_truncate_prompt_tokens_cuts_as_the_hugging_face_tokenizer(
    zoo: ZooCase, strict: Graph, limit: int
) -> None:
    bound = expect_right_vectors(zoo)
    want = st_encode(zoo.model, ZOO_TEXTS, max_length=limit)
    tokens = st_tokens(zoo.model, ZOO_TEXTS, max_length=limit)
    for graph in (zoo.graph, strict):  # the graph's own setting does not matter
        got = embed_with(graph, ZOO_TEXTS, truncate_prompt_tokens=limit)
        assert_close(f"{zoo.name} N={limit}", got.embeddings, want, bound, ZOO_TEXTS)
        assert got.prompt_tokens == tokens
    # The ids themselves: what the HF tokenizer gives (sentence-transformers strips the text first).
    batch = tokenization_of(strict).text.encode(list(ZOO_TEXTS), Cut(limit=limit))
    stripped = [text.strip() for text in ZOO_TEXTS]
    hf = zoo.hf_tokenizer(stripped, truncation=True, max_length=limit)["input_ids"]
    assert [list(row) for row in batch.rows()] == hf


def test_a_cut_counts_and_keeps_the_prompt(zoo: ZooCase) -> None:
    names = prompt_names(zoo)
    bound = expect_right_vectors(zoo)
    for name in names:
        got = embed_with(zoo.graph, ZOO_TEXTS, prompt_name=name, truncate_prompt_tokens=12)
        want = st_encode(zoo.model, ZOO_TEXTS, prompt_name=name, max_length=12)
        assert_close(f"{zoo.name}/{name}", got.embeddings, want, bound, ZOO_TEXTS)
        assert got.prompt_tokens == st_tokens(zoo.model, ZOO_TEXTS, prompt_name=name, max_length=12)


def test_truncate_false_refuses_on_a_truncating_graph(zoo: ZooCase) -> None:
    with pytest.raises(InvalidArgument, match=rf"Input length \d+ longer than allowed {M}$"):
        embed_with(zoo.graph, ("Short", LONG_TEXT), truncate=False)
    short = embed_with(zoo.graph, ("Short",), truncate=False)
    np.testing.assert_array_equal(short.embeddings, embed_with(zoo.graph, ("Short",)).embeddings)


def test_truncation_values_the_graph_cannot_serve_are_refused(zoo: ZooCase) -> None:
    exceeds = f"truncate_prompt_tokens {M + 1} exceeds the maximum length {M} of this graph$"
    with pytest.raises(InvalidArgument, match=exceeds):
        embed_with(zoo.graph, ("text",), truncate_prompt_tokens=M + 1)
    special = sum(tokenization_of(zoo.graph).text.special_layout())
    no_room = f"leaves no room for text next to the {special} special tokens"
    with pytest.raises(InvalidArgument, match=no_room):
        embed_with(zoo.graph, ("text",), truncate_prompt_tokens=special)


def test_token_ids_are_cut_to_their_first_n(zoo: ZooCase, strict: Graph) -> None:
    ids = tuple(zoo.hf_tokenizer(LONG_TEXT)["input_ids"])
    assert len(ids) > M
    request = EmbeddingsInput(token_ids=(ids,), options=TextOptions(truncate_prompt_tokens=10))
    got = run_graph(strict, EmbeddingsRequest(input=request))
    first = run_graph(strict, EmbeddingsRequest(input=EmbeddingsInput(token_ids=(ids[:10],))))
    assert got.prompt_tokens == 10
    np.testing.assert_array_equal(got.embeddings, first.embeddings)
    with pytest.raises(InvalidArgument, match=f"longer than allowed {M}"):
        run_graph(strict, EmbeddingsRequest(input=EmbeddingsInput(token_ids=(ids,))))


def test_cuts_in_merged_batches_of_concurrent_requests(zoo: ZooCase, strict: Graph) -> None:
    """Concurrent requests with different cuts (and none) share tokenizer calls and batches."""
    bound = expect_right_vectors(zoo)
    cuts: list[dict[str, object]] = [
        {},
        {"truncate_prompt_tokens": 8},
        {"truncate": True},
        {"truncate_prompt_tokens": 33},
    ]
    requests = [
        EmbeddingsInput(texts=texts, options=TextOptions(**cuts[i % len(cuts)]))  # type: ignore[arg-type]
        for i, texts in enumerate(REQUESTS)
        if i % len(cuts) or all(len(zoo.hf_tokenizer(t)["input_ids"]) <= M for t in texts)
    ]
    results = run_merged(strict, requests)
    for request, result in zip(requests, results, strict=True):
        limit = request.options.truncate_prompt_tokens
        want = st_encode(zoo.model, request.texts, max_length=limit)
        assert_close(f"{zoo.name} {request.options}", result.embeddings, want, bound, request.texts)
        assert result.prompt_tokens == st_tokens(zoo.model, request.texts, max_length=limit)
