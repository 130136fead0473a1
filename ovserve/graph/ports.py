"""Typed port constants: how a calculator names its tags once, at module level.

    TEXTS = Input[list[str]]("TEXTS")
    EMBEDDINGS = Output[np.ndarray]("EMBEDDINGS")
    MODEL = InputSidePacket[LoadedModel]("MODEL")

`get_contract` declares them (`cc.declare(TEXTS, EMBEDDINGS, MODEL)`); `process` reads and
writes through them (`ctx.get(TEXTS)`, `ctx.set(EMBEDDINGS, value)`), so a tag string is
spelled once. The type parameter is for the type checker only: packets are not checked at
run time.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

T = TypeVar("T")

# MediaPipe's rules (calculator.proto): tags are upper case, digits and underscores; names
# are lower case, digits and underscores. An empty tag is allowed ("name" alone).
TAG_RE = re.compile(r"[A-Z_][A-Z0-9_]*")


class PortKind(enum.Enum):
    """Which list of a node a port belongs to; values are the pbtxt field names."""

    INPUT_STREAM = "input_stream"
    OUTPUT_STREAM = "output_stream"
    INPUT_SIDE_PACKET = "input_side_packet"
    OUTPUT_SIDE_PACKET = "output_side_packet"


@dataclass(frozen=True)
class Port(Generic[T]):
    """A tagged port of a calculator.

    Attributes:
        tag: UPPER_SNAKE tag as written before the first `:` in pbtxt ("" for untagged).
        optional: the node may leave the port unconnected.
        multiple: the node may connect several indices (`TAG:0:a`, `TAG:1:b`); index i>0
            is read with the key `port_key(tag, i)`.
    """

    tag: str
    optional: bool = False
    multiple: bool = False
    kind: ClassVar[PortKind]

    def __post_init__(self) -> None:
        if self.tag and not TAG_RE.fullmatch(self.tag):
            raise ValueError(f"port tag {self.tag!r} is not UPPER_SNAKE")


class Input(Port[T]):
    kind = PortKind.INPUT_STREAM


class Output(Port[T]):
    kind = PortKind.OUTPUT_STREAM


class InputSidePacket(Port[T]):
    kind = PortKind.INPUT_SIDE_PACKET


class OutputSidePacket(Port[T]):
    kind = PortKind.OUTPUT_SIDE_PACKET


def port_key(tag: str, index: int = 0) -> str:
    """The key a packet is stored under in `ctx.inputs` & co: `TAG` or `TAG:index`."""
    return tag if index == 0 else f"{tag}:{index}"
