"""`TAG:name`, `TAG:index:name` and `name`: the port strings of a graph.pbtxt.

MediaPipe's rules (calculator.proto): tags are upper case letters, digits and underscores;
names are lower case letters, digits and underscores, not starting with a digit; an index
is a non-negative decimal. `TAG:0:name` is the same port as `TAG:name`; a bare `name` has
the empty tag. OVMS takes the last `:` part as the stream name, which agrees with this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ovserve.graph.ports import TAG_RE, port_key

NAME_RE = re.compile(r"[a-z_][a-z0-9_]*")
_INDEX_RE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class StreamRef:
    """One parsed port string. `key` is what contexts index packets by (`port_key`)."""

    tag: str
    index: int
    name: str

    @property
    def key(self) -> str:
        return port_key(self.tag, self.index)

    def __str__(self) -> str:
        return ":".join(p for p in (self.tag, str(self.index) if self.index else "", self.name) if p)


def parse_stream_ref(text: str) -> StreamRef:
    """Parse a port string.

    Raises:
        ValueError: with a sentence saying what is wrong (callers add file and node).
    """
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError(f"{text!r} has more than two ':' (expected TAG:name, TAG:index:name or name)")
    name = parts[-1]
    tag = parts[0] if len(parts) > 1 else ""
    index_text = parts[1] if len(parts) == 3 else "0"
    if len(parts) > 1 and not TAG_RE.fullmatch(tag):
        raise ValueError(f"{text!r}: tag {tag!r} must be upper case letters, digits and '_'")
    if not _INDEX_RE.fullmatch(index_text):
        raise ValueError(f"{text!r}: index {index_text!r} must be a non-negative integer")
    if not NAME_RE.fullmatch(name):
        raise ValueError(f"{text!r}: name {name!r} must be lower case letters, digits and '_'")
    return StreamRef(tag=tag, index=int(index_text), name=name)
