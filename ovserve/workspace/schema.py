"""A small typed validator for JSON-like documents that reports JSON paths.

There is no jsonschema dependency on purpose: the OVMS schema is small, and hand-written checks
give better messages. Every check takes the value and its JSON path (`model_config_list[2].config`)
and either returns the value narrowed to a Python type or raises `SchemaError(path, expected)`.
The caller prefixes the file name. Booleans are never accepted where numbers are expected, even
though Python's `bool` is an `int`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class SchemaError(Exception):
    """A value does not match the schema.

    Args:
        path: JSON path of the offending value; "" is the document itself.
        message: what was expected and what was found.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'top level'}: {message}")
        self.path = path
        self.message = message


def child(path: str, key: str | int) -> str:
    """JSON path of an array item (`a[1]`) or object member (`a.b`, or `a["x/y"]` for odd keys)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def describe(value: object) -> str:
    """A short rendering of a found value for messages: JSON for scalars, a kind for containers."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None or isinstance(value, bool | int | float | str):
        text = json.dumps(value)
        return text if len(text) <= 60 else text[:57] + '..."'
    return f"a {type(value).__name__}"  # YAML can produce dates and other non-JSON scalars


def expected(path: str, what: str, value: object) -> SchemaError:
    return SchemaError(path, f"expected {what}, got {describe(value)}")


def as_object(value: object, path: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise expected(path, "an object", value)
    for key in value:
        if not isinstance(key, str):  # only YAML can produce these
            raise SchemaError(path, f"expected string keys, got key {describe(key)}")
    return value


def as_list(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise expected(path, "an array", value)
    return value


def as_str(value: object, path: str, *, nonempty: bool = False) -> str:
    if not isinstance(value, str):
        raise expected(path, "a non-empty string" if nonempty else "a string", value)
    if nonempty and not value:
        raise expected(path, "a non-empty string", value)
    return value


def as_bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise expected(path, "a boolean", value)
    return value


def as_int(value: object, path: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise expected(path, f"an integer >= {minimum}", value)
    return value


def check_keys(
    obj: Mapping[str, object],
    path: str,
    *,
    allowed: Collection[str],
    required: Collection[str] = (),
    hints: Mapping[str, str] | None = None,
) -> None:
    """Reject unknown keys (the schema's `additionalProperties: false`) and missing required keys.

    `hints` maps a known-but-refused key to the reason given instead of "unknown key".
    """
    for key in obj:
        if key not in allowed:
            reason = (hints or {}).get(key)
            if reason is not None:
                raise SchemaError(child(path, key), reason)
            allowed_text = ", ".join(sorted(allowed))
            raise SchemaError(child(path, key), f"unknown key (expected one of: {allowed_text})")
    for key in required:
        if key not in obj:
            raise SchemaError(path, f"missing required key {json.dumps(key)}")
