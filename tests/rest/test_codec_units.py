"""Codec and data-plane helpers without a server: JSON limits, encodings, Matryoshka cuts."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from ovserve.errors import FailedPrecondition, InvalidArgument
from ovserve.frontends.rest.jsonio import MAX_NESTING_DEPTH, decode, dumps, dumps_floats
from ovserve.frontends.rest.kserve_v2 import split_model_path
from ovserve.frontends.rest.openai import encode_embeddings
from ovserve.graph_contract import truncate_dimensions
from ovserve.types import EmbeddingsResult


def nested(depth: int) -> bytes:
    # An object holding depth-1 nested arrays: `depth` containers in all.
    return b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_nesting_up_to_the_limit_is_accepted_and_beyond_refused() -> None:
    assert isinstance(decode(nested(MAX_NESTING_DEPTH)), dict)
    with pytest.raises(FailedPrecondition, match="exceeds maximum nesting depth"):
        decode(nested(MAX_NESTING_DEPTH + 1))


def test_many_shallow_brackets_are_not_deep() -> None:
    assert decode(json.dumps({"input": [[1]] * 1000}).encode()) == {"input": [[1]] * 1000}


def test_ovms_golden_output_plus_model() -> None:
    result = EmbeddingsResult(embeddings=np.array([[1, 2, 3], [1, 2, 3]], dtype=np.float32), prompt_tokens=0)
    assert encode_embeddings("m", result, base64_output=False) == (
        b'{"object":"list","data":[{"object":"embedding","embedding":[1.0,2.0,3.0],"index":0},'
        b'{"object":"embedding","embedding":[1.0,2.0,3.0],"index":1}],"model":"m",'
        b'"usage":{"prompt_tokens":0,"total_tokens":0}}'
    )
    encoded = json.loads(encode_embeddings("m", result, base64_output=True))
    assert encoded["data"][0]["embedding"] == "AACAPwAAAEAAAEBA"
    assert base64.b64decode("AACAPwAAAEAAAEBA") == np.array([1, 2, 3], dtype="<f4").tobytes()


def test_unnormalized_vectors_are_cut_without_renormalizing() -> None:
    vectors = np.array([[3.0, 4.0, 12.0]], dtype=np.float32)
    cut = truncate_dimensions(EmbeddingsResult(embeddings=vectors, prompt_tokens=5), 2)
    np.testing.assert_array_equal(cut.embeddings, [[3.0, 4.0]])
    assert cut.prompt_tokens == 5


def test_unit_vectors_are_renormalized_and_zero_vectors_stay_zero() -> None:
    vectors = np.array([[3.0, 4.0, 12.0], [0.0, 0.0, 0.0]], dtype=np.float32) / np.float32(13.0)
    vectors[1] = 0.0
    cut = truncate_dimensions(EmbeddingsResult(embeddings=vectors, prompt_tokens=0), 2)
    np.testing.assert_allclose(cut.embeddings, [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    assert cut.embeddings.dtype == np.float32


def test_dimensions_above_the_native_size_are_refused() -> None:
    vectors = np.ones((1, 4), dtype=np.float32)
    with pytest.raises(InvalidArgument, match="dimensions should be between 1 and 4"):
        truncate_dimensions(EmbeddingsResult(embeddings=vectors, prompt_tokens=0), 5)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/b", ("a/b", None, "")),
        ("a/b/", ("a/b", None, "")),
        ("a/b/versions/2", ("a/b", 2, "")),
        ("a/b/versions/2/ready", ("a/b", 2, "ready")),
        ("a/b/ready", ("a/b", None, "ready")),
        ("a/versions/x", ("a/versions/x", None, "")),
    ],
)
def test_model_paths(path: str, expected: tuple[str, int | None, str]) -> None:
    assert split_model_path(path, ("ready",)) == expected


def test_float_vectors_are_the_shortest_digits_of_the_widened_float32_values() -> None:
    """Whatever the notation (`6.4e-5` or `0.000064`), each number parses back to the float32
    value widened to double, bit for bit, with the digits of Python's shortest repr."""
    rng = np.random.default_rng(7)
    scales = (1.0, 1e-3, 1e-6, 1e-9, 1e6, 1e-30, 1e30)
    values = np.concatenate(
        [(rng.standard_normal(4096) * scale).astype(np.float32) for scale in scales]
        + [np.array([0.0, -0.0, 1e-45, -1e-45, 3.4028235e38, 1e-7, 0.1], dtype=np.float32)]
    )
    result = EmbeddingsResult(embeddings=values.reshape(1, -1), prompt_tokens=1)
    raw = encode_embeddings("m", result, base64_output=False)
    numbers = json.loads(raw)["data"][0]["embedding"]
    widened = values.astype(np.float64)
    assert np.array_equal(np.array(numbers, dtype=np.float64).view(np.uint64), widened.view(np.uint64))
    written = raw.split(b'"embedding":[')[1].split(b"]")[0].decode().split(",")
    assert [_digits(t) for t in written] == [_digits(repr(v)) for v in widened.tolist()]


def _digits(number: str) -> str:
    """The significant digits of a decimal number, without sign, point, zeros or exponent."""
    mantissa = number.lower().split("e")[0].lstrip("-").replace(".", "")
    return mantissa.strip("0") or "0"


def test_float_vectors_encode_as_their_widened_lists_do_non_finite_values_and_views_too() -> None:
    """`dumps_floats` reads the array's buffer; it writes what `dumps` of the list of Python
    floats writes, byte for byte: NaN and infinities as `null`, a strided view by its values."""
    rng = np.random.default_rng(11)
    matrix = (rng.standard_normal((3, 384)) * 1e-3).astype(np.float32)
    matrix[0, :4] = [np.nan, np.inf, -np.inf, -0.0]
    for vector in (matrix[0], matrix[:, 5], matrix[1, ::3]):
        assert dumps_floats(vector) == dumps(vector.astype(np.float64).tolist())
    assert dumps_floats(matrix[0]).startswith(b"[null,null,null,-0.0,")
