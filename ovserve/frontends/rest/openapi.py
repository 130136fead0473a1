"""`GET /openapi.json`: an OpenAPI 3.1 document of every REST route.

Every operation names the aiohttp route serving it in `x-ovserve-route` ("METHOD canonical"),
so a test can check that no route is undocumented. Paths with a free-form tail in aiohttp
(`/v2/models/{path}`, `/v3/{tail}`) are documented in their concrete protocol shapes.
With an API key configured, every operation but the health routes needs `bearerAuth`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ovserve import __version__
from ovserve.frontends.rest.jsonio import dumps, json_bytes_response

Schema = dict[str, Any]

_STR: Schema = {"type": "string"}
_INT: Schema = {"type": "integer"}
_ERROR: Schema = {
    "description": "Error; OpenAI routes answer {error: {message, type, code}}, others {error: message}",
    "content": {"application/json": {"schema": {"type": "object", "required": ["error"]}}},
}
_JSON_OK: Schema = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
_EMPTY_OK: Schema = {"description": "OK, empty body"}

EMBEDDINGS_REQUEST: Schema = {
    "type": "object",
    "required": ["model", "input"],
    "properties": {
        "model": _STR,
        "input": {
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
                {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}, "minItems": 1},
            ]
        },
        "encoding_format": {"type": "string", "enum": ["float", "base64"]},
        "dimensions": {"type": "integer", "minimum": 1},
        "user": _STR,
    },
}
TOKENIZE_REQUEST: Schema = {
    "type": "object",
    "required": ["model", "text"],
    "properties": {
        "model": _STR,
        "text": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "max_length": {"type": "integer", "minimum": 1},
        "pad_to_max_length": {"type": "boolean"},
        "add_special_tokens": {"type": "boolean"},
        "padding_side": {"type": "string", "enum": ["left", "right"]},
    },
}
_TEI_INPUTS: Schema = {
    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
}
_TEI_MODEL: Schema = {"type": "string", "description": "ovserve: the graph, when several serve"}
TEI_EMBED_REQUEST: Schema = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "inputs": _TEI_INPUTS,
        "normalize": {"type": "boolean"},
        "truncate": {"type": "boolean", "description": "only false: the graph decides truncation"},
        "model": _TEI_MODEL,
    },
}
TEI_TOKENIZE_REQUEST: Schema = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "inputs": _TEI_INPUTS,
        "add_special_tokens": {"type": "boolean"},
        "prompt_name": {"type": ["string", "null"]},
        "model": _TEI_MODEL,
    },
}
_IDS: Schema = {"type": "array", "items": {"type": "integer", "minimum": 0}}
TEI_DECODE_REQUEST: Schema = {
    "type": "object",
    "required": ["ids"],
    "properties": {
        "ids": {"oneOf": [_IDS, {"type": "array", "items": _IDS, "minItems": 1}]},
        "skip_special_tokens": {"type": "boolean"},
        "model": _TEI_MODEL,
    },
}
_DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64"]
INFER_REQUEST: Schema = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "id": _STR,
        "parameters": {"type": "object"},
        "inputs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "shape", "datatype", "data"],
                "properties": {
                    "name": _STR,
                    "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    "datatype": {"type": "string", "enum": [*_DATATYPES, "FP16", "FP32", "FP64", "BYTES"]},
                    "parameters": {"type": "object"},
                    "data": {"type": "array", "items": {}},
                },
            },
        },
        "outputs": {
            "type": "array",
            "items": {"type": "object", "required": ["name"], "properties": {"name": _STR, "parameters": {}}},
        },
    },
}


def _param(name: str, schema: Schema = _STR) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _op(
    route: str,
    summary: str,
    *,
    params: tuple[str, ...] = (),
    body: Schema | None = None,
    ok: Schema = _JSON_OK,
    open_route: bool = False,
) -> Schema:
    operation: Schema = {
        "summary": summary,
        "x-ovserve-route": route,
        "responses": {"200": ok, "4XX": _ERROR},
    }
    if params:
        operation["parameters"] = [_param(p, _INT if p == "version" else _STR) for p in params]
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if open_route:
        operation["security"] = []
    return operation


def _paths() -> dict[str, Schema]:
    paths: dict[str, Schema] = {
        "/v2/health/live": {"get": _op("GET /v2/health/live", "Liveness", ok=_EMPTY_OK, open_route=True)},
        "/v2/health/ready": {
            "get": _op("GET /v2/health/ready", "Readiness (503 while loading)", ok=_EMPTY_OK, open_route=True)
        },
        "/v1/config": {"get": _op("GET /v1/config", "Status of every model and graph")},
        "/v1/config/reload": {
            "post": _op("POST /v1/config/reload", "Re-read the workspace; 201 if anything was (re)loaded")
        },
        "/v1/models/{name}/versions/{version}": {
            "get": _op(
                "GET /v1/models/{name}/versions/{version}",
                "TFS model version status",
                params=("name", "version"),
            )
        },
        "/v2": {"get": _op("GET /v2", "KServe server metadata")},
        "/openapi.json": {"get": _op("GET /openapi.json", "This document")},
        "/docs": {"get": _op("GET /docs", "This document in Swagger UI (HTML)")},
        "/docs/{file}": {"get": _op("GET /docs/{file}", "Swagger UI's files", params=("file",))},
    }
    for prefix in ("/v3", "/v3/v1", "/v1"):
        paths[f"{prefix}/models"] = {"get": _op(f"GET {prefix}/models", "OpenAI: list models")}
        paths[f"{prefix}/models/{{name}}"] = {
            "get": _op(f"GET {prefix}/models/{{name}}", "OpenAI: retrieve a model", params=("name",))
        }
    for versioned in ("", "/versions/{version}"):
        params = ("name", "version") if versioned else ("name",)
        base = f"/v2/models/{{name}}{versioned}"
        paths[base] = {"get": _op("GET /v2/models/{path}", "KServe model metadata", params=params)}
        paths[f"{base}/ready"] = {
            "get": _op(
                "GET /v2/models/{path}", "KServe model ready (404 if not)", params=params, ok=_EMPTY_OK
            )
        }
        paths[f"{base}/config"] = {
            "get": _op("GET /v2/models/{path}", "Triton model configuration (perf_analyzer)", params=params)
        }
        paths[f"{base}/infer"] = {
            "post": _op("POST /v2/models/{path}", "KServe inference", params=params, body=INFER_REQUEST)
        }
    for path in ("/v3/embeddings", "/v3/v1/embeddings"):
        paths[path] = {"post": _op("POST /v3/{tail}", "OpenAI embeddings", body=EMBEDDINGS_REQUEST)}
    for path in ("/v3/tokenize", "/v3/v1/tokenize"):
        paths[path] = {
            "post": _op("POST /v3/{tail}", "Tokenize with the graph's tokenizer", body=TOKENIZE_REQUEST)
        }
    paths["/embed"] = {
        "post": _op("POST /embed", "TEI embed: a JSON array of vectors", body=TEI_EMBED_REQUEST)
    }
    paths["/similarity"] = {
        "post": _op("POST /similarity", "TEI similarity: cosine of source_sentence with each sentence")
    }
    paths["/tokenize"] = {
        "post": _op(
            "POST /tokenize",
            "TEI tokenize: each token's id, text, special flag and byte offsets",
            body=TEI_TOKENIZE_REQUEST,
        )
    }
    paths["/decode"] = {
        "post": _op("POST /decode", "TEI decode: token ids back to text", body=TEI_DECODE_REQUEST)
    }
    paths["/info"] = {"get": _op("GET /info", "TEI model information")}
    paths["/rerank"] = {"post": _op("POST /rerank", "TEI rerank: documents sorted by relevance to a query")}
    for path in ("/v3/rerank", "/v3/v1/rerank", "/v3/v2/rerank", "/v1/rerank"):
        route = "POST /v1/rerank" if path == "/v1/rerank" else "POST /v3/{tail}"
        paths[path] = {"post": _op(route, "Cohere rerank: documents sorted by relevance to a query")}
    paths["/health"] = {
        "get": _op("GET /health", "TEI health: 200 when a graph serves, else 503", ok=_EMPTY_OK)
    }
    paths["/v1/embeddings"] = {
        "post": _op("POST /v1/embeddings", "OpenAI embeddings", body=EMBEDDINGS_REQUEST)
    }
    return paths


def document() -> Schema:
    """The OpenAPI document (built once per call; small)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "ovserve", "version": __version__},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
    }


async def get_openapi(request: web.Request) -> web.Response:
    return json_bytes_response(dumps(document()))


ROUTES = [web.get("/openapi.json", get_openapi)]
