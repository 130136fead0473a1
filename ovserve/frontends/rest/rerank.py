"""Cohere rerank codec: `POST /v3/rerank` (any `/v3/…/rerank`, so Cohere's clients with
`base_url=http://host:port/v3` reach it as `/v3/v1/rerank` and `/v3/v2/rerank`) and `/v1/rerank`.

As OVMS: the body's `model` names the graph (412 when it is missing or not a string, 404 for an
unknown graph); the graph validates the rest with OVMS's texts (400, inside the OVMS
execution-error wrapper): `query`, `documents` (strings, or objects with `text`), `top_n`,
`return_documents`, and a document-count limit (`max_allowed_chunks`). The answer is OVMS's and
Cohere's `{"results": [{"index", "relevance_score", "document": {"text"}?}, …]}`, highest score
first; beyond OVMS it carries `model` and `usage` (`prompt_tokens`, `total_tokens`: every token
the model read, special tokens included).
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from ovserve.frontends.rest.jsonio import dumps, json_bytes_response
from ovserve.frontends.rest.state import DATAPLANE
from ovserve.types import RerankResult


def is_rerank_path(path: str) -> bool:
    """True for the paths this codec answers (`…/rerank`)."""
    return path.rstrip("/").endswith("/rerank")


async def rerank(request: web.Request, model: str, body: Mapping[str, object]) -> web.Response:
    """One rerank call on graph `model` (already resolved and known to exist)."""
    documents = body.get("documents")
    count = len(documents) if isinstance(documents, list) else None
    result = await request.app[DATAPLANE].rerank(model, body, inputs=count)
    return json_bytes_response(encode_rerank(model, result))


def encode_rerank(model: str, result: RerankResult) -> bytes:
    """The Cohere/OVMS answer body (a few hundred bytes per document: encoded on the loop)."""
    results = []
    for hit in result.results:
        item: dict[str, object] = {"index": hit.index, "relevance_score": hit.relevance_score}
        if hit.document is not None:
            item["document"] = {"text": hit.document}
        results.append(item)
    usage = {"prompt_tokens": result.prompt_tokens, "total_tokens": result.prompt_tokens}
    return dumps({"results": results, "model": model, "usage": usage})
