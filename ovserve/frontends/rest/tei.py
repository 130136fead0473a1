"""Text Embeddings Inference (TEI) routes on the same data plane: `/embed`, `/similarity`,
`/rerank`, `/info`, `/health` (`/tokenize` and `/decode`: `ovserve.frontends.rest.tei_tokens`).

TEI serves one model, so its bodies name none. Here the model is the body's `model` (an
ovserve extension; aliases and last segments resolve as on the OpenAI routes), else the only
callable graph of the route's kind (embeddings for `/embed` and `/similarity`, rerank for
`/rerank`); with several and no `model`, 400 lists them.

`POST /embed` takes TEI's body: `inputs` (a string or a list of strings), `normalize`
(default true), `truncate`, `truncation_direction`, `prompt_name`. `prompt_name` and `truncate`
mean what they mean on `/v3/embeddings` (`ovserve.graph.formats.text_options`: a prompt of the
model's, cut at the graph's maximum length; absent, the graph's own setting). Texts are cut at
their end, TEI's `Right`; `Left` is refused with a 400 that says so, as is `normalize: false` on
a graph that normalizes its vectors (its `normalize_embeddings` option), rather than ignored.
The answer is TEI's: a JSON array of vectors.

`POST /rerank` takes TEI's `{"query", "texts", "return_text", "raw_scores", "truncate"}` and
answers `[{"index", "score", "text"?}, …]`, highest score first. Scores are the graph's
(sigmoid for one-label cross-encoders); `raw_scores: true` is refused with a 400, as is
`truncate: false` (a pair longer than the model takes is always cut, as `CrossEncoder` cuts it).

`POST /similarity` takes `{"inputs": {"source_sentence": s, "sentences": [...]}}` and answers
the cosine of `s` with each sentence, in order.

Errors have TEI's shape, `{"error": message, "error_type": kind}` (see
`ovserve.frontends.rest.errors`); the status codes are ovserve's (400 where TEI says 422).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from aiohttp import web

from ovserve import __version__
from ovserve.dataplane import DataPlane
from ovserve.errors import InvalidArgument
from ovserve.frontends.rest.jsonio import dumps, dumps_floats, json_bytes_response, read_json
from ovserve.frontends.rest.state import DATAPLANE
from ovserve.graph.formats.text_options import DEFAULT_OPTIONS, parse_text_options
from ovserve.graph_contract import UNIT_NORM_TOLERANCE
from ovserve.types import EmbeddingsInput, EmbeddingsRequest, EmbeddingsResult, RerankRequest, TextOptions


def body_of(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidArgument("the JSON body must be an object")
    return value


# TEI's error kinds, by status; other statuses: Backend (5xx) or Validation.
_ERROR_TYPES: dict[int, str] = {429: "Overloaded", 503: "Unhealthy"}


def error_body(status: int, message: str) -> dict[str, object]:
    """TEI's `{"error", "error_type"}`."""
    return {
        "error": message,
        "error_type": _ERROR_TYPES.get(status, "Backend" if status >= 500 else "Validation"),
    }


def model_of(dataplane: DataPlane, body: Mapping[str, object], *, rerank: bool = False) -> str:
    asked = body.get("model")
    if asked is not None:
        if not isinstance(asked, str):
            raise InvalidArgument("model must be a string")
        return dataplane.resolve_name(asked)
    graphs = [
        n
        for n in dataplane.names.callable_names()
        if dataplane.is_graph(n) and dataplane.is_rerank_graph(n) == rerank
    ]
    if len(graphs) != 1:
        kind = "rerank graphs" if rerank else "embeddings graphs"
        served = ", ".join(graphs) or "none"
        raise InvalidArgument(f"name a graph in model: this server has {len(graphs)} {kind} ({served})")
    return graphs[0]


def texts_of(value: object, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InvalidArgument(f"{field} must be a string or a non-empty list of strings")


def _text_options(body: Mapping[str, object]) -> TextOptions:
    """The request's prompt and truncation (TEI's `truncate` is a boolean, as on `/v3`)."""
    direction = body.get("truncation_direction")
    if direction is not None:
        if direction in ("Left", "left"):
            raise InvalidArgument(
                "truncation_direction Left is not supported: texts are cut at their end (Right)"
            )
        if direction not in ("Right", "right"):
            raise InvalidArgument("truncation_direction must be Right or Left")
    if not isinstance(body.get("normalize", True), bool):
        raise InvalidArgument("normalize must be a boolean")
    return parse_text_options({key: body[key] for key in ("prompt_name", "truncate") if key in body})


async def _embed_texts(
    request: web.Request,
    body: Mapping[str, object],
    texts: tuple[str, ...],
    options: TextOptions = DEFAULT_OPTIONS,
) -> EmbeddingsResult:
    dataplane = request.app[DATAPLANE]
    model = model_of(dataplane, body)
    dataplane.graph(model)  # 404 / 503 before the input checks, as on the OpenAI routes
    payload = EmbeddingsRequest(input=EmbeddingsInput(texts=texts, options=options), model=model)
    return await dataplane.embeddings(model, payload, inputs=len(texts))


def _unit(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: npt.NDArray[np.float32] = np.divide(vectors, lengths, out=np.zeros_like(vectors), where=lengths > 0)
    return unit


async def embed(request: web.Request) -> web.Response:
    body = body_of(await read_json(request))
    options = _text_options(body)
    result = await _embed_texts(request, body, texts_of(body.get("inputs"), "inputs"), options)
    vectors = result.embeddings
    norms = np.linalg.norm(vectors, axis=1)
    normalized = bool(np.all(np.abs(norms - 1) < UNIT_NORM_TOLERANCE))
    if body.get("normalize", True):
        vectors = vectors if normalized else _unit(vectors)
    elif normalized:
        raise InvalidArgument(
            "normalize=false is not supported by this graph: it normalizes its vectors "
            "(option normalize_embeddings of its embeddings calculator)"
        )
    # A few vectors per request: encoding them here is cheaper than a thread hop.
    return json_bytes_response(b"[%b]" % b",".join(dumps_floats(row) for row in vectors))


async def similarity(request: web.Request) -> web.Response:
    body = body_of(await read_json(request))
    inputs = body.get("inputs")
    if not isinstance(inputs, Mapping):
        raise InvalidArgument("inputs must be an object with source_sentence and sentences")
    source = texts_of(inputs.get("source_sentence"), "inputs.source_sentence")
    if len(source) != 1:
        raise InvalidArgument("inputs.source_sentence must be one string")
    sentences = texts_of(inputs.get("sentences"), "inputs.sentences")
    vectors = _unit((await _embed_texts(request, body, source + sentences)).embeddings)
    scores = vectors[1:] @ vectors[0]
    return json_bytes_response(dumps_floats(scores))


async def info(request: web.Request) -> web.Response:
    dataplane = request.app[DATAPLANE]
    graphs = [n for n in dataplane.names.callable_names() if dataplane.is_graph(n)]
    limits = dataplane.limits
    document = {
        "model_id": graphs[0] if len(graphs) == 1 else ",".join(graphs),
        "model_sha": None,
        "model_dtype": "float32",
        "model_type": {"embedding": {"pooling": "graph"}},
        "max_concurrent_requests": limits.max_inflight_requests,
        "max_client_batch_size": limits.max_inputs_per_request,
        "version": __version__,
        "sha": None,
        "docker_label": None,
        # ovserve: every graph a TEI client may name in `model`.
        "models": graphs,
    }
    return json_bytes_response(dumps(document))


async def health(request: web.Request) -> web.Response:
    """200 when the start-up load is done and at least one graph serves, else 503 (as TEI)."""
    dataplane = request.app[DATAPLANE]
    serving = any(dataplane.is_graph(n) for n in dataplane.names.callable_names())
    if not (dataplane.ready() and serving):
        return web.Response(status=503)
    return web.Response(status=200)


async def rerank(request: web.Request) -> web.Response:
    body = body_of(await read_json(request))
    dataplane = request.app[DATAPLANE]
    model = model_of(dataplane, body, rerank=True)
    dataplane.graph(model)  # 404 / 503 before the input checks
    query = body.get("query")
    if not isinstance(query, str):
        raise InvalidArgument("query must be a string")
    texts = texts_of(body.get("texts"), "texts")
    flags = {
        key: body.get(key, default)
        for key, default in (("return_text", False), ("raw_scores", False), ("truncate", True))
    }
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise InvalidArgument(f"{key} must be a boolean")
    if flags["raw_scores"]:
        raise InvalidArgument("raw_scores is not supported: scores are the graph's (sigmoid of the logit)")
    if not flags["truncate"]:
        raise InvalidArgument(
            "truncate=false is not supported: over-long pairs are cut as the model's tokenizer cuts them"
        )
    payload = RerankRequest(
        query=query, documents=texts, return_documents=bool(flags["return_text"]), model=model
    )
    result = await dataplane.rerank(model, payload, inputs=len(texts))
    answer = []
    for hit in result.results:
        item: dict[str, object] = {"index": hit.index, "score": hit.relevance_score}
        if hit.document is not None:
            item["text"] = hit.document
        answer.append(item)
    return json_bytes_response(dumps(answer))


ROUTES = [
    web.post("/rerank", rerank),
    web.post("/embed", embed),
    web.post("/similarity", similarity),
    web.get("/info", info),
    web.get("/health", health),
]
