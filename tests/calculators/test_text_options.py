"""The request fields `prompt_name`, `truncate`, `truncate_prompt_tokens` (pure parts):
validation, how a cut is resolved against the graph, prompts, and cutting token rows."""

from __future__ import annotations

import numpy as np
import pytest

from calculators import model_facts
from ovserve.errors import ConfigError, InvalidArgument
from ovserve.graph.formats.embeddings import EmbeddingsInput, parse_embeddings_body
from ovserve.graph.formats.text_options import Cut, Prompts, TextOptions, parse_text_options, resolve_cut
from ovserve.graph.formats.tokens import TokenBatch, cut_rows, cut_token_ids
from ovserve.runtime import rt_info


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, TextOptions()),
        ({"prompt_name": None, "truncate": None, "truncate_prompt_tokens": None}, TextOptions()),
        ({"prompt_name": "query"}, TextOptions(prompt_name="query")),
        ({"truncate": True}, TextOptions(truncate=True)),
        ({"truncate": False}, TextOptions(truncate=False)),
        ({"truncate_prompt_tokens": -1}, TextOptions(truncate_prompt_tokens=-1)),
        (
            {"truncate_prompt_tokens": 7, "truncate": True},
            TextOptions(truncate=True, truncate_prompt_tokens=7),
        ),
    ],
)
def test_accepted_options(body: dict[str, object], expected: TextOptions) -> None:
    assert parse_text_options(body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"prompt_name": 3}, "prompt_name should be string"),
        ({"prompt_name": ["query"]}, "prompt_name should be string"),
        ({"truncate": "yes"}, "truncate should be boolean"),
        ({"truncate": 1}, "truncate should be boolean"),
        ({"truncate_prompt_tokens": 0}, "truncate_prompt_tokens should be -1 (the maximum length) or a"),
        ({"truncate_prompt_tokens": -2}, "truncate_prompt_tokens should be -1"),
        ({"truncate_prompt_tokens": 1.5}, "truncate_prompt_tokens should be -1"),
        ({"truncate_prompt_tokens": True}, "truncate_prompt_tokens should be -1"),
        ({"truncate_prompt_tokens": "8"}, "truncate_prompt_tokens should be -1"),
        ({"truncate_prompt_tokens": 8, "truncate": False}, "cannot be used with truncate false"),
    ],
)
def test_refused_options(body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_text_options(body)
    with pytest.raises(InvalidArgument):  # and through the embeddings body, before any model runs
        parse_embeddings_body({"input": "x", **body})


def test_the_body_carries_the_options_to_the_documents() -> None:
    request = parse_embeddings_body({"input": ["a"], "prompt_name": "q", "truncate_prompt_tokens": 9})
    assert request.input.texts == ("a",)
    assert request.input.options == TextOptions(prompt_name="q", truncate_prompt_tokens=9)
    assert parse_embeddings_body({"input": "a"}).input == EmbeddingsInput(texts=("a",))


@pytest.mark.parametrize(
    ("options", "graph_truncates", "expected"),
    [
        (TextOptions(), True, Cut(limit=128, explicit=False)),
        (TextOptions(), False, Cut(limit=None, explicit=False)),
        (TextOptions(), None, Cut(limit=None, explicit=False)),
        (TextOptions(truncate=True), False, Cut(limit=128)),
        (TextOptions(truncate=False), True, Cut(limit=None)),
        (TextOptions(truncate_prompt_tokens=-1), False, Cut(limit=128)),
        (TextOptions(truncate_prompt_tokens=16), True, Cut(limit=16)),
        (TextOptions(truncate_prompt_tokens=128, truncate=True), False, Cut(limit=128)),
        (TextOptions(truncate_prompt_tokens=3), False, Cut(limit=3)),
    ],
)
def test_resolve_cut(options: TextOptions, graph_truncates: bool | None, expected: Cut) -> None:
    assert resolve_cut(options, max_length=128, graph_truncates=graph_truncates, special=2) == expected


def test_cuts_the_graph_cannot_serve() -> None:
    with pytest.raises(
        InvalidArgument, match=r"^truncate_prompt_tokens 129 exceeds the maximum length 128 of"
    ):
        resolve_cut(TextOptions(truncate_prompt_tokens=129), max_length=128, graph_truncates=True, special=2)
    with pytest.raises(
        InvalidArgument, match=r"^truncate_prompt_tokens 2 leaves no room for text next to the 2"
    ):
        resolve_cut(TextOptions(truncate_prompt_tokens=2), max_length=128, graph_truncates=True, special=2)


def test_prompts() -> None:
    prompts = Prompts(prompts={"query": "query: ", "passage": "passage: "}, default_name="query")
    assert prompts.prompt_for(None) == "query: "
    assert prompts.prompt_for("passage") == "passage: "
    assert Prompts(prompts={"query": "q: "}).prompt_for(None) == ""
    with pytest.raises(
        InvalidArgument, match=r"^prompt_name 'x' is not one of this model's prompts: 'query', 'passage'$"
    ):
        prompts.prompt_for("x")
    with pytest.raises(
        InvalidArgument, match=r"^prompt_name 'query' is not available: this model has no prompts$"
    ):
        Prompts().prompt_for("query")


def test_recorded_prompts_read_from_the_first_source_that_has_them() -> None:
    keys = rt_info.ovserve_rt_info(
        max_length=8,
        truncate=True,
        tokenizer_max_length=8,
        max_position_embeddings=8,
        pooling="MEAN",
        normalize=True,
        weight_format="fp32",
        inference_precision_hint="f32",
        strip_text=True,
        prompts={"query": "クエリ: "},
        default_prompt_name="query",
    )
    assert keys[rt_info.KEY_PROMPTS] == '{"query": "クエリ: "}'
    found = model_facts.recorded_prompts({}, keys, where="n")
    assert found == Prompts(prompts={"query": "クエリ: "}, default_name="query")
    assert model_facts.recorded_prompts({}, {}, where="n") == Prompts()  # OVMS exports: none
    empty = {rt_info.KEY_PROMPTS: "{}", rt_info.KEY_DEFAULT_PROMPT_NAME: ""}
    assert model_facts.recorded_prompts(empty, keys, where="n") == Prompts()


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ({rt_info.KEY_PROMPTS: "[1]"}, "is not a JSON object of strings"),
        ({rt_info.KEY_PROMPTS: "{not json"}, "is not a JSON object of strings"),
        ({rt_info.KEY_PROMPTS: '{"q": 1}'}, "is not a JSON object of strings"),
        (
            {rt_info.KEY_PROMPTS: '{"q": "q"}', rt_info.KEY_DEFAULT_PROMPT_NAME: "p"},
            "'p' is not one of the prompts",
        ),
    ],
)
def test_bad_recorded_prompts_fail_the_load(info: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        model_facts.recorded_prompts(info, where="n")


def _batch(rows: list[list[int]], pad: int = 0) -> TokenBatch:
    width = max(len(row) for row in rows)
    ids = np.full((len(rows), width), pad, dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return TokenBatch(input_ids=ids, attention_mask=mask, token_type_ids=np.zeros_like(ids))


def test_cut_rows_keeps_the_special_tokens_around_the_first_content_tokens() -> None:
    batch = _batch([[101, 1, 2, 3, 4, 5, 102], [101, 7, 102], [101, 102]], pad=9)
    cut = cut_rows(batch, 4, prefix=1, suffix=1)
    assert [list(row) for row in cut.rows()] == [[101, 1, 2, 102], [101, 7, 102], [101, 102]]
    assert cut.length == 4
    assert cut.prompt_tokens == 9
    assert int(cut.input_ids[2, 3]) == 9  # padding keeps the batch's pad id
    eos = cut_rows(_batch([[5, 6, 7, 8, 0]]), 3, prefix=0, suffix=1)  # a decoder's appended EOS
    assert [list(row) for row in eos.rows()] == [[5, 6, 0]]
    assert cut_rows(batch, 7, prefix=1, suffix=1) is batch  # nothing longer: unchanged


def test_cut_token_ids_keeps_the_first_ids() -> None:
    assert cut_token_ids([(1, 2, 3, 4), (5,)], 2) == [(1, 2), (5,)]
