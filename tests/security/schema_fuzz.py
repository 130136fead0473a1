"""A small seeded fuzzer driven by the OpenAPI document (hypothesis and schemathesis are not
installed; the seed makes every failure reproducible).

`operations(doc)` lists (method, path template, operation); `FuzzCase.generate` fills the
path parameters (known names, versions, hostile strings) and builds a body from the
operation's schema: valid values most of the time, with a node replaced by junk, required
keys dropped, deep nesting or non-JSON bytes the rest of the time.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]

HOSTILE_STRINGS = [
    "", " ", "..", "../../etc/passwd", "%2e%2e%2f", "a" * 5000, "\u0000", "\ud7ff\ue000", "名前",
    "relu/../relu", "/", "%", "%ZZ", "versions", "ready", "infer", "-1", "0", "99999999999999999999",
]  # fmt: skip
JUNK: list[object] = [None, True, -1, 0, 2**63, -(2**70), 1.5e308, "", "x", [], {}, [[]], {"a": None}, [None]]


def operations(doc: Schema) -> list[tuple[str, str, Schema]]:
    return [
        (method.upper(), path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    ]


@dataclass(frozen=True)
class FuzzCase:
    method: str
    path: str
    body: bytes | None
    content_type: str | None

    @staticmethod
    def generate(
        rng: random.Random, method: str, template: str, operation: Schema, names: list[str]
    ) -> FuzzCase:
        path = template
        for param in operation.get("parameters", []):
            if param["schema"].get("type") == "integer":
                value = rng.choice(["1", "2", "0", str(rng.randrange(10**6)), rng.choice(HOSTILE_STRINGS)])
            else:
                value = rng.choice(names) if rng.random() < 0.6 else rng.choice(HOSTILE_STRINGS)
            path = path.replace("{" + param["name"] + "}", value)
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return FuzzCase(method, path, None, None)
        roll = rng.random()
        content_type: str | None = "application/json"
        if roll < 0.6:
            document = _mutate(rng, _sample(rng, schema, names, 0))
            body = json.dumps(document).encode()
        elif roll < 0.7:
            body = ("[" * rng.choice([50, 99, 101, 150, 5000])).encode() + b"1" + b"]" * rng.choice([0, 200])
        elif roll < 0.8:
            body = rng.randbytes(rng.randrange(0, 256))
        elif roll < 0.9:
            body = json.dumps(_sample(rng, schema, names, 0)).encode()[: rng.randrange(1, 40)]
        else:
            body = json.dumps(_sample(rng, schema, names, 0)).encode()
            content_type = rng.choice([None, "text/plain", "application/octet-stream", "multipart/form-data"])
        return FuzzCase(method, path, body, content_type)


def _sample(rng: random.Random, schema: Schema, names: list[str], depth: int) -> object:
    if "oneOf" in schema:
        return _sample(rng, rng.choice(schema["oneOf"]), names, depth)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        props: dict[str, Schema] = schema.get("properties", {})
        result: dict[str, object] = {}
        for key, sub in props.items():
            if key in schema.get("required", []) or rng.random() < 0.5:
                if key not in ("model", "name", "datatype"):
                    result[key] = _sample(rng, sub, names, depth + 1)
                    continue
                known = _named(rng, key, names)
                result[key] = known if rng.random() < 0.7 else _sample(rng, sub, names, depth + 1)
        return result
    if kind == "array":
        count = rng.choice([0, 1, 1, 2, 3, 8]) if depth < 4 else 0
        return [_sample(rng, schema.get("items", {}), names, depth + 1) for _ in range(count)]
    if kind == "string":
        return rng.choice(["hello world", "", "名前 " * 20, rng.choice(HOSTILE_STRINGS)])
    if kind == "integer":
        return rng.choice([0, 1, 2, 3, 384, -1, 10**12])
    return rng.choice(JUNK)


def _named(rng: random.Random, key: str, names: list[str]) -> object:
    """Names the server knows, so that requests get past the lookups to the deeper checks."""
    if key == "model":
        return rng.choice(names)
    if key == "name":
        return rng.choice(["input", "input_ids", "attention_mask", "token_type_ids", "x"])
    if key == "datatype":
        return rng.choice(["BYTES", "INT64", "FP32"])
    return None


def _mutate(rng: random.Random, value: object) -> object:
    """Replace or drop one node of `value` with probability ~0.5."""
    if rng.random() < 0.5:
        return value
    if isinstance(value, dict) and value:
        key = rng.choice(list(value))
        if rng.random() < 0.3:
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: _mutate(rng, value[key]) if rng.random() < 0.5 else rng.choice(JUNK)}
    if isinstance(value, list) and value:
        index = rng.randrange(len(value))
        return [*value[:index], _mutate(rng, value[index]), *value[index + 1 :]]
    return rng.choice(JUNK)
