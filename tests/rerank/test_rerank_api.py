"""Rerank over every protocol, next to an embeddings graph in one workspace.

One server holds the seed embeddings graph and the BERT rerank graph (flat export). Clients
as their users run them: `requests` for Cohere/OVMS and TEI bodies and KServe REST, the
`cohere` SDK with `base_url=.../v3` (OVMS's demo), the grpc.aio KServe stub.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import numpy as np
import pytest
import pytest_asyncio
import requests

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.config import RequestLimits
from ovserve.graph.runner import Graph
from ovserve.server import Server
from tests.grpc.stub import InferenceStub
from tests.grpc.support import output_array
from tests.rerank.support import DOCUMENTS, QUERY, reference_scores
from tests.running import running_server
from tests.support.cross_encoders import rerank_workspace
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

RERANK = "rerank/bert"
EMBEDDINGS = DEFAULT_GRAPH_NAME
F32_BOUND = 1e-5
EXECUTION_PREFIX = (
    "Mediapipe execution failed. MP status - INVALID_ARGUMENT: CalculatorGraph::Run() failed: \n"
)


def mixed_workspace(tmp: Path) -> Path:
    """A config.json serving the seed embeddings graph and the BERT rerank graph (absolute
    base paths into the shared caches, which nothing here changes)."""
    entries = []
    for config in (exported_workspace(), rerank_workspace("bert", "flat")):
        document = json.loads(config.read_text())
        for key in ("model_config_list", "mediapipe_config_list"):
            for entry in document.get(key, []):
                item = entry.get("config", entry)
                if "base_path" in item:
                    item["base_path"] = str((config.parent / item["base_path"]).resolve())
                if "graph_path" in item:
                    item["graph_path"] = str((config.parent / item["graph_path"]).resolve())
                entries.append((key, entry))
    merged: dict[str, list[Any]] = {}
    for key, entry in entries:
        merged.setdefault(key, []).append(entry)
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "config.json").write_text(json.dumps(merged, indent=2))
    return tmp / "config.json"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with running_server(mixed_workspace(tmp_path_factory.mktemp("mixed"))) as started:
        yield started


async def post(server: Server, path: str, body: object) -> requests.Response:
    url = f"http://127.0.0.1:{server.rest_port}{path}"
    return await asyncio.to_thread(requests.post, url, json=body, timeout=120)


async def get(server: Server, path: str) -> requests.Response:
    url = f"http://127.0.0.1:{server.rest_port}{path}"
    return await asyncio.to_thread(requests.get, url, timeout=60)


def scores_of(body: dict[str, Any], count: int) -> np.ndarray:
    scores = np.full(count, np.nan)
    for hit in body["results"]:
        scores[hit["index"]] = hit["relevance_score"]
    return scores


async def test_both_graphs_serve_at_once(server: Server) -> None:
    body = {"model": RERANK, "query": QUERY, "documents": list(DOCUMENTS)}
    embedded, ranked = await asyncio.gather(
        post(server, "/v3/embeddings", {"model": EMBEDDINGS, "input": ["hello", "world"]}),
        post(server, "/v3/rerank", body),
    )
    assert (embedded.status_code, ranked.status_code) == (200, 200)
    assert len(embedded.json()["data"]) == 2
    got = scores_of(ranked.json(), len(DOCUMENTS))
    assert np.max(np.abs(got - reference_scores("bert", QUERY, DOCUMENTS))) <= F32_BOUND
    models = {m["id"] for m in (await get(server, "/v3/models")).json()["data"]}
    assert {RERANK, EMBEDDINGS} <= models
    config = (await get(server, "/v1/config")).json()
    assert config[RERANK]["model_version_status"][0]["state"] == "AVAILABLE"


async def test_results_are_sorted_cut_to_top_n_and_carry_documents_and_usage(server: Server) -> None:
    documents = ["paris is the capital of france", "the cat", "lyon", "tokyo"]
    full = (
        await post(server, "/v3/rerank", {"model": RERANK, "query": QUERY, "documents": documents})
    ).json()
    scores = [hit["relevance_score"] for hit in full["results"]]
    assert scores == sorted(scores, reverse=True)
    assert sorted(hit["index"] for hit in full["results"]) == [0, 1, 2, 3]
    assert all(set(hit) == {"index", "relevance_score"} for hit in full["results"])
    assert full["usage"]["prompt_tokens"] == full["usage"]["total_tokens"] > 4 * 3
    assert full["model"] == RERANK
    top = await post(
        server,
        "/v3/rerank",
        {
            "model": RERANK,
            "query": QUERY,
            "documents": [{"text": d} for d in documents],
            "top_n": 2,
            "return_documents": True,
        },
    )
    assert top.status_code == 200
    hits = top.json()["results"]
    assert [h["index"] for h in hits] == [h["index"] for h in full["results"][:2]]
    assert [h["document"] for h in hits] == [{"text": documents[h["index"]]} for h in hits]


async def test_cohere_clients_with_the_v3_base_url(server: Server) -> None:
    """OVMS's demo client: `cohere.Client(base_url=http://host:port/v3)` (posts to
    /v3/v1/rerank), and the v2 client (/v3/v2/rerank)."""
    import cohere

    base = f"http://127.0.0.1:{server.rest_port}/v3"
    want = reference_scores("bert", QUERY, DOCUMENTS[:5])

    def call() -> tuple[Any, Any]:
        with httpx.Client() as http:  # closed here, so no socket outlives the test
            v1 = cohere.Client(base_url=base, api_key="not_used", httpx_client=http).rerank(
                query=QUERY, documents=list(DOCUMENTS[:5]), model=RERANK
            )
            v2 = cohere.ClientV2(base_url=base, api_key="not_used", httpx_client=http).rerank(
                query=QUERY, documents=list(DOCUMENTS[:5]), model=RERANK, top_n=3
            )
        return v1, v2

    v1, v2 = await asyncio.to_thread(call)
    got = np.full(5, np.nan)
    for result in v1.results:
        got[result.index] = result.relevance_score
    assert np.max(np.abs(got - want)) <= F32_BOUND
    assert [r.index for r in v2.results] == [r.index for r in v1.results][:3]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": RERANK, "documents": ["a"]}, "query field is missing in request"),
        ({"model": RERANK, "query": 1, "documents": ["a"]}, "query is not a string"),
        ({"model": RERANK, "query": "q"}, "documents field is missing in request"),
        ({"model": RERANK, "query": "q", "documents": "a"}, "documents is not an array"),
        (
            {"model": RERANK, "query": "q", "documents": ["a", {"text": "b"}]},
            "all documents have to be the same type (string or objects)",
        ),
        ({"model": RERANK, "query": "q", "documents": ["a"], "top_n": "2"}, "top_n accepts integer values"),
        (
            {"model": RERANK, "query": "q", "documents": ["a"], "return_documents": 1},
            "return_documents accepts boolean values",
        ),
    ],
)
async def test_bad_bodies_get_ovms_texts_in_the_openai_error_shape(
    server: Server, body: object, message: str
) -> None:
    response = await post(server, "/v3/rerank", body)
    assert response.status_code == 400
    # As OVMS words it: the run's wrapper, then the node the user's graph names.
    wrapped = f'{EXECUTION_PREFIX}Calculator::Process() for node "RerankExecutor" failed: {message}'
    assert response.json()["error"]["message"] == wrapped


async def test_wrong_graph_kind_missing_or_unknown_model(server: Server) -> None:
    on_embeddings = await post(server, "/v3/rerank", {"model": EMBEDDINGS, "query": "q", "documents": ["a"]})
    assert on_embeddings.status_code == 400
    assert "is an embeddings graph, not a rerank graph" in on_embeddings.json()["error"]["message"]
    on_rerank = await post(server, "/v3/embeddings", {"model": RERANK, "input": "a"})
    assert on_rerank.status_code == 400
    assert "is a rerank graph" in on_rerank.json()["error"]["message"]
    missing = await post(server, "/v3/rerank", {"query": "q", "documents": ["a"]})
    assert missing.status_code == 412
    unknown = await post(server, "/v3/rerank", {"model": "nope", "query": "q", "documents": ["a"]})
    assert unknown.status_code == 404


async def test_tei_rerank_route(server: Server) -> None:
    response = await post(
        server, "/rerank", {"query": QUERY, "texts": list(DOCUMENTS[:4]), "return_text": True}
    )
    assert response.status_code == 200
    hits = response.json()
    assert [set(h) for h in hits] == [{"index", "score", "text"}] * 4
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(h["text"] == DOCUMENTS[h["index"]] for h in hits)
    raw = await post(server, "/rerank", {"query": "q", "texts": ["a"], "raw_scores": True})
    assert raw.status_code == 400
    assert set(raw.json()) == {"error", "error_type"}
    assert "raw_scores is not supported" in raw.json()["error"]


def kserve_body(query: object, documents: list[str]) -> dict[str, Any]:
    return {
        "inputs": [
            {"name": "query", "datatype": "BYTES", "shape": [1], "data": [query]},
            {"name": "documents", "datatype": "BYTES", "shape": [len(documents)], "data": documents},
        ]
    }


async def test_kserve_rest_and_grpc_answer_scores_in_document_order(server: Server) -> None:
    documents = list(DOCUMENTS[:6])
    want = reference_scores("bert", QUERY, DOCUMENTS[:6])
    rest = await post(server, f"/v2/models/{RERANK}/infer", kserve_body(QUERY, documents))
    assert rest.status_code == 200, rest.text
    (output,) = rest.json()["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("scores", "FP32", [6])
    assert np.max(np.abs(np.array(output["data"]) - want)) <= F32_BOUND
    metadata = (await get(server, f"/v2/models/{RERANK}")).json()
    assert [(i["name"], i["datatype"], i["shape"]) for i in metadata["inputs"]] == [
        ("query", "BYTES", [1]),
        ("documents", "BYTES", [-1]),
    ]
    assert metadata["outputs"] == [{"name": "scores", "datatype": "FP32", "shape": [-1]}]
    bad = await post(
        server, f"/v2/models/{RERANK}/infer", {"inputs": kserve_body(QUERY, documents)["inputs"][:1]}
    )
    assert bad.status_code == 400
    assert "takes two BYTES inputs" in bad.json()["error"]

    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = InferenceStub(channel)
        request = pb.ModelInferRequest(model_name=RERANK)
        for name, items in (("query", [QUERY]), ("documents", documents)):
            tensor = pb.ModelInferRequest.InferInputTensor(name=name, datatype="BYTES", shape=[len(items)])
            tensor.contents.bytes_contents.extend(item.encode() for item in items)
            request.inputs.append(tensor)
        response = await stub.ModelInfer(request)
        assert np.max(np.abs(output_array(response, "scores") - want)) <= F32_BOUND
        assert response.parameters["prompt_tokens"].int64_param > 0
        del request.inputs[0]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ModelInfer(request)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_concurrent_requests_are_merged_and_score_as_alone(server: Server) -> None:
    """Pairs of concurrent requests share inferences (the batcher's counts show batches
    larger than one request) and every score equals the request's score alone at f32."""
    graph = server.repository.graph(RERANK)
    assert isinstance(graph, Graph)
    queries = [QUERY, "capital of japan", "a cat on a mat", "rivers", "", "spain", "numbers", "emoji"]
    alone = [
        scores_of(
            (
                await post(server, "/v3/rerank", {"model": RERANK, "query": q, "documents": list(DOCUMENTS)})
            ).json(),
            20,
        )
        for q in queries
    ]
    before = dict(graph.stats().batch_sizes)
    together = await asyncio.gather(
        *(
            post(server, "/v3/rerank", {"model": RERANK, "query": q, "documents": list(DOCUMENTS)})
            for q in queries * 3
        )
    )
    after = graph.stats().batch_sizes
    merged = {
        size: count - before.get(size, 0) for size, count in after.items() if count > before.get(size, 0)
    }
    assert max(merged) > len(DOCUMENTS), merged
    for i, response in enumerate(together):
        got = scores_of(response.json(), 20)
        assert np.max(np.abs(got - alone[i % len(queries)])) <= F32_BOUND


async def test_ovserve_bench_sends_rerank_requests_to_a_rerank_url(server: Server, tmp_path: Path) -> None:
    from ovserve.bench.cli import main

    report = tmp_path / "bench.json"
    url = f"http://127.0.0.1:{server.rest_port}/v3/rerank"
    argv = [
        "--api_url",
        url,
        "--model",
        RERANK,
        "--limit",
        "64",
        "--batch_size",
        "32",
        "--synthetic_length",
        "20",
    ]
    code = await asyncio.to_thread(
        main, [*argv, "--concurrency", "2", "--no_progress", "--json", str(report)]
    )
    assert code == 0
    results = json.loads(report.read_text())["results"]
    assert (results["documents"], results["documents_ok"], results["requests"]) == (64, 64, 2)
    assert results["tokens"] > 64 * 20


async def test_the_inputs_per_request_limit_counts_documents_not_the_query() -> None:
    """`--max_inputs_per_request` bounds documents on every route; a KServe request's `query`
    tensor is not one of them."""
    limits = RequestLimits(max_inputs_per_request=3)
    async with running_server(rerank_workspace("bert", "flat"), limits=limits) as limited:
        three, four = list(DOCUMENTS[:3]), list(DOCUMENTS[:4])
        for path in ("/v3/rerank", f"/v2/models/{RERANK}/infer"):

            def body(documents: list[str], path: str = path) -> dict[str, Any]:
                if path == "/v3/rerank":
                    return {"model": RERANK, "query": QUERY, "documents": documents}
                return kserve_body(QUERY, documents)

            accepted = await post(limited, path, body(three))
            assert accepted.status_code == 200, (path, accepted.text)
            refused = await post(limited, path, body(four))
            assert refused.status_code == 400, (path, refused.text)
            assert "request has 4 inputs, more than the limit of 3 per request" in refused.text
