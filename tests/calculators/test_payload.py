"""OpenAI `input` validation: accepted shapes and the exact OVMS messages."""

from __future__ import annotations

import pytest

from calculators.embeddings_request_calculator import documents_of
from ovserve.errors import ErrorCode, InvalidArgument
from ovserve.graph.formats.embeddings import (
    EmbeddingsInput,
    EmbeddingsRequest,
    parse_embeddings_body,
    parse_embeddings_input,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", EmbeddingsInput(texts=("hello",))),
        ("", EmbeddingsInput(texts=("",))),
        (["a", "b"], EmbeddingsInput(texts=("a", "b"))),
        ([101, 7592, 102], EmbeddingsInput(token_ids=((101, 7592, 102),))),
        ([[1, 2], [3]], EmbeddingsInput(token_ids=((1, 2), (3,)))),
    ],
)
def test_accepted_inputs(value: object, expected: EmbeddingsInput) -> None:
    assert parse_embeddings_input(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (3, "input should be string, array of strings or array of integers"),
        ({"a": 1}, "input should be string, array of strings or array of integers"),
        (True, "input should be string, array of strings or array of integers"),
        (None, "input should be string, array of strings or array of integers"),
        ([], "input array should not be empty"),
        ([[1], []], "inner arrays in input should not be empty"),
        (["a", 1], "input must be homogeneous"),
        ([[1], 2], "input must be homogeneous"),
        ([1.5], "every element in input array should be either string or int"),
        ([None], "every element in input array should be either string or int"),
        ([True], "every element in input array should be either string or int"),
        ([["a"]], "input must be either array of strings or array of array of integers"),
        ([[1, 2.0]], "input must be either array of strings or array of array of integers"),
    ],
)
def test_rejected_inputs(value: object, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_embeddings_input(value)
    assert info.value.message == message
    assert info.value.code is ErrorCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1], "Received json is not an object"),
        ({"model": "m"}, "input field is required"),
        ({"input": "a", "encoding_format": 1}, "encoding_format should be string"),
        ({"input": "a", "encoding_format": "hex"}, "encoding_format should either base64 or float"),
    ],
)
def test_rejected_bodies(body: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=f"^{message}$"):
        parse_embeddings_body(body)


def test_body_keeps_model_and_format_and_ignores_unknown_keys() -> None:
    request = parse_embeddings_body(
        {"model": "m", "input": ["x"], "encoding_format": "base64", "dimensions": 3, "user": "u"}
    )
    assert request == EmbeddingsRequest(
        input=EmbeddingsInput(texts=("x",)), model="m", encoding_format="base64"
    )


def test_input_needs_exactly_one_kind() -> None:
    with pytest.raises(InvalidArgument, match="input field is required"):
        EmbeddingsInput()


@pytest.mark.parametrize(
    "payload",
    [
        EmbeddingsRequest(input=EmbeddingsInput(texts=("a",))),
        EmbeddingsInput(texts=("a",)),
        {"input": "a"},
        '{"input": "a"}',
        b'{"input": ["a"]}',
    ],
)
def test_request_payload_forms(payload: object) -> None:
    assert documents_of(payload) == EmbeddingsInput(texts=("a",))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not json", "Received json is not an object"),
        ("[1]", "Received json is not an object"),
        (object(), "Non-json request received in embeddings calculator"),
    ],
)
def test_request_payload_errors(payload: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=f"^{message}$"):
        documents_of(payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'{"input": "\xed\xa0\x80"}', "Received json is not an object"),
        (b'{"input": "\xff"}', "Received json is not an object"),
        (
            '{"input": ["a", "\\ud800"]}',
            "input[1] is not valid Unicode: it holds the lone surrogate \\ud800",
        ),
        (
            b'{"input": "\\udc00"}',
            "input is not valid Unicode: it holds the lone surrogate \\udc00",
        ),
    ],
    ids=["utf-8-encoded surrogate", "not utf-8", "escaped lone surrogate", "escaped, in bytes"],
)
def test_json_text_that_is_not_valid_unicode_is_refused(payload: object, message: str) -> None:
    """Text that would fail in the tokenizer (as INTERNAL) is the request's error instead."""
    with pytest.raises(InvalidArgument) as raised:
        documents_of(payload)
    assert raised.value.message.startswith(message)
