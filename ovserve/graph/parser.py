"""graph.pbtxt → `CalculatorGraphConfig`, with protobuf's own text format (no hand parser).

Both option forms parse, because every generated `_pb2` module is imported into protobuf's
default pool first (`ensure_protos_loaded`):

    node_options: { [type.googleapis.com/mediapipe.X]: { ... } }    # Any; spaces around
    node_options: { [type.googleapis.com / mediapipe.X]: { ... } }  # `/` are fine: the
    options { [mediapipe.X.ext] { ... } }                           # tokenizer skips them

Comments are ignored by the text format; the OVMS directive comment
`# OVMS_GRAPH_QUEUE_MAX_SIZE: AUTO|N` is read separately from the raw text.

Every problem is a `ConfigError` whose message starts with `<file>:<line>:<column>:` when
protobuf knows the position (syntax, unknown field, bad enum value), and otherwise points
at the line of the offending `[type]` block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from google.protobuf import text_format
from google.protobuf.message import EncodeError

from ovserve.errors import ConfigError
from ovserve.graph.pb import CalculatorGraphConfig, NodeConfig, ensure_protos_loaded

QueueSize = int | Literal["AUTO"]
_Msg = TypeVar("_Msg", CalculatorGraphConfig, NodeConfig)

# OVMS matches the directive case-sensitively anywhere in the file; we accept it only as a
# whole comment line, which is what both exporters write.
_QUEUE_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*OVMS_GRAPH_QUEUE_MAX_SIZE:[ \t]*(\S*)[ \t]*$", re.MULTILINE)
_POSITION = re.compile(r"^(\d+):(\d+) : ")
_TYPE_BLOCK = r"\[\s*(?:[\w.]+\s*/\s*)?{name}\s*\]"
_ANY_NOT_FOUND = re.compile(r"Type (\S+) not found in descriptor pool")
_MISSING_REQUIRED = re.compile(r"Message (\S+) is missing required fields: (.*)")


@dataclass(frozen=True)
class ParsedGraph:
    """A parsed (not yet validated) graph file.

    Attributes:
        config: the graph as protobuf message.
        path: the file it came from (or a label such as `<string>`), for messages.
        queue_max_size: the `# OVMS_GRAPH_QUEUE_MAX_SIZE:` directive: "AUTO", a count
            (0 = pool off), or None when absent.
    """

    config: CalculatorGraphConfig
    path: Path
    queue_max_size: QueueSize | None


def parse_graph_file(path: Path) -> ParsedGraph:
    """Read and parse a graph.pbtxt. Blocking (file I/O).

    Raises:
        ConfigError: unreadable file or invalid content (message names file, line, column).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read graph file: {exc}") from exc
    return parse_graph_text(text, path)


def parse_graph_text(text: str, path: Path | str = "<string>") -> ParsedGraph:
    """Parse graph text; `path` is used in messages only. Raises `ConfigError`."""
    where = Path(path)
    config = _parse(text, CalculatorGraphConfig(), where)
    return ParsedGraph(config=config, path=where, queue_max_size=_queue_directive(text, where))


def parse_node_text(text: str, path: Path | str = "<node>") -> NodeConfig:
    """Parse the body of one `node { ... }` (or a whole `node { ... }` block). Raises `ConfigError`."""
    stripped = text.strip()
    if stripped.startswith("node") and stripped[4:].lstrip().startswith(("{", ":")):
        graph = _parse(text, CalculatorGraphConfig(), Path(path))
        if len(graph.node) != 1:
            raise ConfigError(f"{path}: expected exactly one node, found {len(graph.node)}")
        return graph.node[0]
    return _parse(text, NodeConfig(), Path(path))


def _parse(text: str, message: _Msg, where: Path) -> _Msg:
    ensure_protos_loaded()
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as exc:
        raise ConfigError(_located(where, text, str(exc), exc.GetLine(), exc.GetColumn())) from exc
    except EncodeError as exc:
        # A proto2 message inside an Any lacks a required field: protobuf reports no position.
        raise ConfigError(_located(where, text, str(exc), None, None)) from exc
    missing: list[str] = message.FindInitializationErrors()  # type: ignore[attr-defined]  # not in the stubs
    if missing:
        # Legacy `options { [ext] {...} }` blocks keep partial messages; report the paths.
        raise ConfigError(f"{where}: missing required option field(s): {', '.join(missing)}")
    return message


def _located(where: Path, text: str, message: str, line: int | None, column: int | None) -> str:
    match = _POSITION.match(message)
    if match:
        message = message[match.end() :]
    if line is None:
        type_name = None
        for pattern in (_ANY_NOT_FOUND, _MISSING_REQUIRED):
            found = pattern.search(message)
            if found:
                type_name = found.group(1)
        if type_name:
            block = re.search(_TYPE_BLOCK.format(name=re.escape(type_name)), text)
            if block:
                line = text.count("\n", 0, block.start()) + 1
                column = block.start() - (text.rfind("\n", 0, block.start()) + 1) + 1
        if _ANY_NOT_FOUND.search(message) and type_name:
            message = f"unknown options type {type_name!r} (no such message is compiled into ovserve)"
    position = f":{line}:{column}" if line is not None else ""
    return f"{where}{position}: {message}"


def _queue_directive(text: str, where: Path) -> QueueSize | None:
    match = _QUEUE_DIRECTIVE.search(text)
    if match is None:
        return None
    value = match.group(1)
    if value == "AUTO":
        return "AUTO"
    if value.isdigit():
        return int(value)
    line = text.count("\n", 0, match.start()) + 1
    raise ConfigError(
        f"{where}:{line}:1: OVMS_GRAPH_QUEUE_MAX_SIZE must be AUTO or a non-negative integer, got {value!r}"
    )
