"""JSON text that is valid Unicode, so every string taken from it can be encoded as UTF-8.

Two ways lead to a string that cannot be encoded, and with it to a failure deep inside the
tokenizer: bytes that are not UTF-8 (Python's `json.loads(bytes)` decodes with
`surrogatepass`, so UTF-8-encoded surrogates come through as lone surrogates), and a
`\\uD800`-`\\uDFFF` escape without its pair, which JSON's grammar allows (RFC 8259 §8.2) but
which stands for no character. `decode_bytes` refuses the first, `check_unicode` the second;
every place that decodes request JSON uses both, so text that reaches the data plane is valid.
Framework-free: used by the REST front end and by calculators that parse JSON themselves.
"""

from __future__ import annotations

import json
import re

from ovserve.errors import InvalidArgument

# A JSON escape of a surrogate. Without one, strictly decoded text holds no surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_bytes(raw: bytes) -> str:
    """The JSON text of `raw`: UTF-8 (or UTF-16/32, detected as `json.loads` does), strictly.

    Raises:
        UnicodeDecodeError: `raw` is not valid in its encoding (a `ValueError`, as a JSON
            syntax error is).
    """
    return raw.decode(json.detect_encoding(raw))


def check_unicode(value: object, text: str) -> None:
    """Refuse `value`, decoded from the JSON `text`, when a string in it holds a lone surrogate.

    Keys and values are checked, in document order; the first offender is named by its JSON
    path (`input[1]`, `inputs[0].data[2]`). Costs one regular-expression scan of `text`; the
    decoded value is walked only when `text` holds a surrogate escape.

    Raises:
        InvalidArgument: `<path> is not valid Unicode: it holds the lone surrogate \\udc00`.
    """
    if _SURROGATE_ESCAPE.search(text) is None:
        return
    stack: list[tuple[object, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            _check_string(item, path or "the JSON body")
        elif isinstance(item, dict):
            children: list[tuple[object, str]] = []
            for key, child in item.items():
                _check_string(key, f"a key of {path or 'the JSON body'}")
                children.append((child, f"{path}.{key}" if path else key))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, f"{path}[{i}]") for i, child in enumerate(item)]))


def _check_string(text: str, where: str) -> None:
    found = _SURROGATE.search(text)
    if found is not None:
        raise InvalidArgument(
            f"{where} is not valid Unicode: it holds the lone surrogate \\u{ord(found.group()):04x}"
            " (a \\ud800-\\udfff escape without its pair), which cannot be encoded as UTF-8"
        )
