"""Cohere rerank body validation with OVMS's error texts, and ranking into results."""

from __future__ import annotations

import json

import numpy as np
import pytest

import calculators  # noqa: F401  # registers the built-ins
from calculators.rerank_request_calculator import request_of
from ovserve.errors import ConfigError, InvalidArgument
from ovserve.graph.formats.rerank import RerankRequest, parse_rerank_body, rank
from ovserve.testing import CalculatorRunner

BASE: dict[str, object] = {"model": "m", "query": "q", "documents": ["a", "b"]}


def test_accepts_strings_and_text_objects() -> None:
    assert parse_rerank_body(BASE) == RerankRequest(model="m", query="q", documents=("a", "b"))
    body = {"query": "", "documents": [{"text": "x"}, {"title": "t", "text": "y"}], "top_n": 1}
    request = parse_rerank_body({**body, "return_documents": True})
    assert request == RerankRequest(query="", documents=("x", "y"), top_n=1, return_documents=True)


def test_null_optionals_mean_absent() -> None:
    # OVMS skips an optional field whose value is null.
    body = {**BASE, "top_n": None, "return_documents": None, "rank_fields": None, "max_chunks_per_doc": None}
    assert parse_rerank_body(body) == parse_rerank_body(BASE)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": 3}, "model accepts string values"),
        ({"query": None}, "query field is missing in request"),
        ({"query": 1}, "query is not a string"),
        ({"documents": None}, "documents field is missing in request"),
        ({"documents": "a"}, "documents is not an array"),
        ({"documents": []}, "documents array should not be empty"),
        ({"documents": [1]}, "documents array element is neither string nor object"),
        ({"documents": ["a", {"text": "b"}]}, "all documents have to be the same type (string or objects)"),
        ({"documents": [{"text": "b"}, "a"]}, "all documents have to be the same type (string or objects)"),
        ({"documents": [{"title": 1, "text": "b"}]}, "document title field have to be string"),
        ({"documents": [{"title": "t"}]}, "document text field is missing"),
        ({"documents": [{"text": 2}]}, "document text field have to be string"),
        ({"top_n": "2"}, "top_n accepts integer values"),
        ({"top_n": 1.5}, "top_n accepts integer values"),
        ({"top_n": True}, "top_n accepts integer values"),
        ({"top_n": -1}, "top_n should be greater than or equal to 0"),
        ({"rank_fields": "text"}, "rank_fields is not an array"),
        ({"rank_fields": [1]}, "rank_fields array element is not a string"),
        ({"max_chunks_per_doc": "1"}, "max_chunks_per_doc accepts integer values"),
        ({"return_documents": 1}, "return_documents accepts boolean values"),
    ],
)
def test_bad_bodies(change: dict[str, object], message: str) -> None:
    body = {**BASE, **change}
    for key, value in change.items():
        if value is None and key in ("query", "documents"):
            del body[key]
    with pytest.raises(InvalidArgument) as caught:
        parse_rerank_body(body)
    assert str(caught.value) == message


def test_document_count_limit() -> None:
    with pytest.raises(
        InvalidArgument, match=r"^exceeding max_allowed_chunks before chunking limit: 1; actual: 2$"
    ):
        parse_rerank_body(BASE, max_documents=1)
    request = parse_rerank_body(BASE)
    with pytest.raises(InvalidArgument, match="limit: 1; actual: 2"):
        request_of(request, max_documents=1)
    assert request_of(request, max_documents=2) is request


def test_payload_forms() -> None:
    expected = parse_rerank_body(BASE)
    assert request_of(json.dumps(BASE), max_documents=10) == expected
    assert request_of(json.dumps(BASE).encode(), max_documents=10) == expected
    for bad in (b"{", "[1]", [1], None, 3):
        with pytest.raises(InvalidArgument, match="Non-json request received in rerank calculator"):
            request_of(bad, max_documents=10)
    with pytest.raises(InvalidArgument, match="a rerank graph cannot answer a object request"):
        request_of(object(), max_documents=10)


def test_rank_orders_cuts_and_returns_documents() -> None:
    request = RerankRequest(query="q", documents=("a", "b", "c", "d"), top_n=3, return_documents=True)
    scores = np.array([0.2, 0.9, 0.2, 0.5], dtype=np.float32)
    result = rank(request, scores, prompt_tokens=17)
    assert [(h.index, h.document) for h in result.results] == [(1, "b"), (3, "d"), (0, "a")]
    assert result.results[0].relevance_score == pytest.approx(0.9)
    assert result.prompt_tokens == 17
    everything = rank(RerankRequest(query="q", documents=("a", "b")), scores[:2], prompt_tokens=0)
    assert [(h.index, h.document) for h in everything.results] == [(1, None), (0, None)]
    assert rank(RerankRequest(query="q", documents=("a",), top_n=0), scores[:1], 0).results == ()


NODE = (
    'calculator: "RerankRequestCalculator" input_stream: "REQUEST_PAYLOAD:in" '
    'output_stream: "RERANK_REQUEST:req" %s'
)
OPTIONS = "node_options: { [type.googleapis.com/ovserve.calculators.RerankRequestCalculatorOptions]: { %s } }"


def test_node_applies_its_document_limit() -> None:
    with CalculatorRunner(NODE % OPTIONS % "max_documents: 1") as runner:
        assert runner.run(REQUEST_PAYLOAD={**BASE, "documents": ["a"]})["RERANK_REQUEST"] == RerankRequest(
            model="m", query="q", documents=("a",)
        )
        with pytest.raises(InvalidArgument, match="limit: 1; actual: 2"):
            runner.run(REQUEST_PAYLOAD=BASE)
    with CalculatorRunner(NODE % "") as runner:
        assert runner.run(REQUEST_PAYLOAD=BASE)["RERANK_REQUEST"] == parse_rerank_body(BASE)


def test_node_refuses_a_zero_limit() -> None:
    with pytest.raises(ConfigError, match="max_documents must be >= 1"):
        CalculatorRunner(NODE % OPTIONS % "max_documents: 0")
