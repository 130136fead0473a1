"""Neutral rerank request/result objects and the Cohere rerank body validation.

`RerankRequest` is what a rerank graph's request node emits (and what front ends may send as
`REQUEST_PAYLOAD`); `RerankResult` is what its response node answers with: results sorted by
relevance, cut to `top_n`. Rendering the Cohere JSON is the front end's job.

The body is validated as OVMS's rerank handler does (`src/rerank/rerank_utils.cpp`), with its
error texts. Beyond OVMS: documents may be objects with `text` (Cohere's form; `title` is
optional and, when given, must be a string), an empty `documents` list and a negative `top_n`
are refused, and `rank_fields` / `max_chunks_per_doc` are checked then ignored (documents are
never split: a pair longer than the model takes is cut as the Hugging Face tokenizer cuts it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ovserve.errors import InvalidArgument

DEFAULT_MAX_DOCUMENTS = 10000
"""OVMS's `max_allowed_chunks` default (taken from Cohere's API documentation)."""


@dataclass(frozen=True, kw_only=True)
class RerankRequest:
    """A validated rerank request: rank `documents` by relevance to `query`.

    `top_n` None means every document; `return_documents` puts each document's text into
    its result.
    """

    query: str
    documents: tuple[str, ...]
    top_n: int | None = None
    return_documents: bool = False
    model: str = ""


@dataclass(frozen=True, kw_only=True)
class RerankHit:
    """One ranked document: its index in the request, its score, and its text when asked."""

    index: int
    relevance_score: float
    document: str | None = None


@dataclass(frozen=True, kw_only=True)
class RerankResult:
    """The ranked documents (highest score first, ties in request order, at most `top_n`),
    the tokens the model read (`prompt_tokens`: all pairs, special tokens included), and every
    document's score in request order (`scores`, float32 `[len(documents)]`)."""

    results: tuple[RerankHit, ...]
    prompt_tokens: int
    scores: npt.NDArray[np.float32]


def rank(request: RerankRequest, scores: npt.NDArray[np.float32], prompt_tokens: int) -> RerankResult:
    """Sort `scores` (one per document, in request order) into a `RerankResult`."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    if request.top_n is not None:
        order = order[: request.top_n]
    hits = tuple(
        RerankHit(
            index=i,
            relevance_score=float(scores[i]),
            document=request.documents[i] if request.return_documents else None,
        )
        for i in order
    )
    return RerankResult(
        results=hits, prompt_tokens=prompt_tokens, scores=np.asarray(scores, dtype=np.float32)
    )


def too_many_documents(count: int, limit: int) -> str:
    """OVMS's message for more documents than `max_allowed_chunks` (`src/rerank/`)."""
    return f"exceeding max_allowed_chunks before chunking limit: {limit}; actual: {count}"


def parse_rerank_body(body: object, *, max_documents: int = DEFAULT_MAX_DOCUMENTS) -> RerankRequest:
    """Validate a decoded Cohere rerank JSON body.

    Raises:
        InvalidArgument: with OVMS's message for the first problem found, or
            OVMS's `exceeding max_allowed_chunks ...` text beyond `max_documents`.
    """
    if not isinstance(body, Mapping):
        raise InvalidArgument("Non-json request received in rerank calculator")
    model = body.get("model", "")
    if not isinstance(model, str):
        raise InvalidArgument("model accepts string values")
    if "query" not in body:
        raise InvalidArgument("query field is missing in request")
    query = body["query"]
    if not isinstance(query, str):
        raise InvalidArgument("query is not a string")
    if "documents" not in body:
        raise InvalidArgument("documents field is missing in request")
    documents = _documents(body["documents"])
    if len(documents) > max_documents:
        raise InvalidArgument(too_many_documents(len(documents), max_documents))
    top_n = body.get("top_n")
    if top_n is not None:
        if not isinstance(top_n, int) or isinstance(top_n, bool):
            raise InvalidArgument("top_n accepts integer values")
        if top_n < 0:
            raise InvalidArgument("top_n should be greater than or equal to 0")
    _check_optional(body)
    returned = body.get("return_documents")
    if returned is not None and not isinstance(returned, bool):
        raise InvalidArgument("return_documents accepts boolean values")
    return RerankRequest(
        query=query, documents=documents, top_n=top_n, return_documents=bool(returned), model=model
    )


def _documents(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidArgument("documents is not an array")
    if not value:
        raise InvalidArgument("documents array should not be empty")
    kinds = set()
    texts: list[str] = []
    for item in value:
        if isinstance(item, str):
            kinds.add("str")
            texts.append(item)
        elif isinstance(item, Mapping):
            kinds.add("object")
            texts.append(_document_text(item))
        else:
            raise InvalidArgument("documents array element is neither string nor object")
        if len(kinds) > 1:
            raise InvalidArgument("all documents have to be the same type (string or objects)")
    return tuple(texts)


def _document_text(item: Mapping[str, object]) -> str:
    if "title" in item and not isinstance(item["title"], str):
        raise InvalidArgument("document title field have to be string")
    if "text" not in item:
        raise InvalidArgument("document text field is missing")
    text = item["text"]
    if not isinstance(text, str):
        raise InvalidArgument("document text field have to be string")
    return text


def _check_optional(body: Mapping[str, object]) -> None:
    fields = body.get("rank_fields")
    if fields is not None:
        if not isinstance(fields, list):
            raise InvalidArgument("rank_fields is not an array")
        if not all(isinstance(f, str) for f in fields):
            raise InvalidArgument("rank_fields array element is not a string")
    chunks = body.get("max_chunks_per_doc")
    if chunks is not None and (not isinstance(chunks, int) or isinstance(chunks, bool)):
        raise InvalidArgument("max_chunks_per_doc accepts integer values")
