"""`ovserve.tensor_codec`: the raw KServe layout both front ends share."""

from __future__ import annotations

import numpy as np
import pytest

from ovserve.errors import InvalidArgument
from ovserve.tensor_codec import join_bytes_elements, raw_contents, split_bytes_elements
from ovserve.types import Tensor


def test_bytes_elements_round_trip_with_empty_and_non_ascii_elements() -> None:
    values = [b"", "héllo", b"\x00\xff", "日本"]
    joined = join_bytes_elements(values)
    assert joined[:4] == b"\x00\x00\x00\x00"  # the empty element is just its length
    assert split_bytes_elements(joined, "x") == [b"", "héllo".encode(), b"\x00\xff", "日本".encode()]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x05\x00\x00\x00abc", "element longer than the buffer"),
        (b"\x01\x00\x00\x00a\x02", "truncated length prefix"),
    ],
)
def test_a_broken_bytes_buffer_names_the_input(content: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument, match=f"^Invalid BYTES content of input ids: {message}$"):
        split_bytes_elements(content, "ids")


def test_numbers_are_little_endian_row_major_whatever_the_array_order() -> None:
    data = np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3))
    raw = raw_contents(Tensor(name="x", datatype="INT32", shape=(2, 3), data=data))
    assert np.frombuffer(raw, dtype="<i4").tolist() == [0, 1, 2, 3, 4, 5]
