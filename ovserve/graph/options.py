"""Finding a node's typed options in either of the two pbtxt forms.

    node_options: { [type.googleapis.com/mediapipe.FooOptions]: { ... } }   # proto3 / Any
    options { [mediapipe.FooOptions.ext] { ... } }                          # proto2 extension

Both name the message type, so the type a node carries can be compared with the type its
calculator declares in `get_contract` before anything runs.
"""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from ovserve.errors import ConfigError
from ovserve.graph.pb import NodeConfig

M = TypeVar("M", bound=Message)


def option_type_names(node: NodeConfig) -> list[str]:
    """Full names of the option messages a node carries, in order (Any entries first)."""
    names = [any_msg.type_url.rsplit("/", 1)[-1] for any_msg in node.node_options]
    if node.HasField("options"):
        names += [_message_name(fd) for fd, _ in node.options.ListFields() if fd.is_extension]
    return names


def extract_options(node: NodeConfig, msg_type: type[M], *, where: str) -> M | None:
    """The node's options of type `msg_type`, or None when the node carries none of them.

    Raises:
        ConfigError: the serialized Any payload does not decode as `msg_type`.
    """
    full_name = msg_type.DESCRIPTOR.full_name
    for any_msg in node.node_options:
        if any_msg.type_url.rsplit("/", 1)[-1] == full_name:
            msg = msg_type()
            try:
                msg.ParseFromString(any_msg.value)
            except DecodeError as exc:  # only possible for hand-built configs
                raise ConfigError(f"{where}: node_options {full_name} do not decode: {exc}") from exc
            return msg
    if node.HasField("options"):
        for fd, value in node.options.ListFields():
            if fd.is_extension and _message_name(fd) == full_name:
                msg = msg_type()
                msg.CopyFrom(value)
                return msg
    return None


def _message_name(fd: FieldDescriptor) -> str:
    # Extensions of CalculatorOptions are message-typed by convention; a scalar extension
    # (legal proto, never used by calculators) has no message type and matches nothing.
    return fd.message_type.full_name if fd.message_type is not None else ""
