"""The KServe v2 raw byte layout of a tensor, shared by both front ends.

REST's binary-data extension and gRPC's `raw_input_contents` / `raw_output_contents` lay a
tensor out the same way: numbers little-endian in row-major order; a BYTES tensor as its
elements back to back, each a 4-byte little-endian length followed by that many bytes.
Framework-free, so the REST and gRPC codecs cannot drift apart.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import numpy as np

from ovserve.errors import InvalidArgument
from ovserve.types import Tensor

LENGTH_PREFIX = struct.Struct("<I")


def split_bytes_elements(content: bytes, name: str) -> list[bytes]:
    """The elements of the BYTES buffer of input `name`, in order.

    Raises:
        InvalidArgument: a length prefix is cut off, or an element runs past the buffer
            (the message names the input).
    """
    items: list[bytes] = []
    offset = 0
    while offset < len(content):
        if offset + LENGTH_PREFIX.size > len(content):
            raise InvalidArgument(f"Invalid BYTES content of input {name}: truncated length prefix")
        (length,) = LENGTH_PREFIX.unpack_from(content, offset)
        offset += LENGTH_PREFIX.size
        if offset + length > len(content):
            raise InvalidArgument(f"Invalid BYTES content of input {name}: element longer than the buffer")
        items.append(content[offset : offset + length])
        offset += length
    return items


def element_bytes(value: object) -> bytes:
    """One BYTES element: bytes as they are, anything else as its UTF-8 text."""
    return value if isinstance(value, bytes) else str(value).encode()


def join_bytes_elements(values: Iterable[object]) -> bytes:
    """The BYTES buffer of `values` (see `element_bytes`)."""
    parts = []
    for value in values:
        data = element_bytes(value)
        parts.append(LENGTH_PREFIX.pack(len(data)) + data)
    return b"".join(parts)


def raw_contents(tensor: Tensor) -> bytes:
    """`tensor`'s data in the raw layout: joined elements for BYTES, else little-endian numbers."""
    if tensor.datatype == "BYTES":
        return join_bytes_elements(tensor.data.ravel())
    little = tensor.data.dtype.newbyteorder("<")
    return np.ascontiguousarray(tensor.data, dtype=little).tobytes()
