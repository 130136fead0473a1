"""Scores of every rerank graph form against sentence-transformers' `CrossEncoder.predict`.

Two cross-encoders (BERT with token types, XLM-R without), three graph forms each, a query
against 20 documents (the empty one and one far beyond the model's 64 tokens among them), and a
query longer than half the model's room so that both sides of a pair are cut. The bound,
|Δ| ≤ 1e-5, holds for f32 arithmetic: the test reads back what the compiled classifier runs
(`tests.support.precision`) and requires f32 first, which the fp32 exports pin in their
plugin_config on every CPU kind.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest
import requests

from ovserve.graph.runner import Graph
from ovserve.server import Server
from tests.rerank.support import (
    DOCUMENTS,
    FORMS,
    LONG_QUERY,
    MODELS,
    QUERY,
    graph_name,
    reference_scores,
    workspace,
)
from tests.running import running_server
from tests.support.precision import execution_of

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

F32_BOUND = 1e-5


async def rerank(server: Server, model: str, query: str, documents: tuple[str, ...]) -> np.ndarray:
    url = f"http://127.0.0.1:{server.rest_port}/v3/rerank"
    body = {"model": graph_name(model), "query": query, "documents": list(documents)}
    response = await asyncio.to_thread(requests.post, url, json=body, timeout=120)
    assert response.status_code == 200, response.text
    scores = np.full(len(documents), np.nan)
    for hit in response.json()["results"]:
        scores[hit["index"]] = hit["relevance_score"]
    return scores


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("model", MODELS)
async def test_scores_equal_cross_encoder_predict(model: str, form: str, tmp_path: Path) -> None:
    async with running_server(workspace(model, form, tmp_path)) as server:
        graph = server.repository.graph(graph_name(model))
        assert isinstance(graph, Graph)
        execution = execution_of(graph)
        assert execution.exact, f"the fp32 export must run f32 here: {execution}"
        for query in (QUERY, LONG_QUERY):
            got = await rerank(server, model, query, DOCUMENTS)
            want = reference_scores(model, query, DOCUMENTS)
            assert np.max(np.abs(got - want)) <= F32_BOUND, (query[:20], got - want)
        # Scores differ between documents (random weights, wide init): the order is meaningful.
        assert np.ptp(want) > 0.05
        # OVMS's forms score a many-label model by column 1, as OVMS; the native graph refuses one.
        (score,) = (node for node in graph.validated.nodes if node.calculator == "RelevanceScoreCalculator")
        assert getattr(score.options, "ovms_label_rule", False) == (form != "native")


async def test_an_export_without_our_pair_layout_scores_in_ovms_layout(tmp_path: Path) -> None:
    """A tree exported by OVMS's own `export_model.py rerank_ov` records no pair layout; the pair
    tokenizer then lays pairs out as OVMS does, `bos q eos sep d eos` from the tokenizer's special
    ids, which for XLM-R (OVMS's demo model, bge-reranker, is one) is the model's own layout."""
    config = workspace("xlm-roberta", "flat", tmp_path)
    stripped = 0
    for xml in config.parent.rglob("openvino_*.xml"):
        text = xml.read_text(encoding="utf-8")
        kept = re.sub(r"\s*<ovserve_pair_template value=\"[^\"]*\" />", "", text)
        stripped += text != kept
        xml.write_text(kept, encoding="utf-8")
    assert stripped == 2  # the tokenizer's and the model's copy
    async with running_server(config) as server:
        for query in (QUERY, LONG_QUERY):
            got = await rerank(server, "xlm-roberta", query, DOCUMENTS)
            want = reference_scores("xlm-roberta", query, DOCUMENTS)
            assert np.max(np.abs(got - want)) <= F32_BOUND, (query[:20], got - want)
