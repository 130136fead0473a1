"""Documents: synthetic lengths, text files, batching."""

from __future__ import annotations

from pathlib import Path

import pytest

from ovserve.bench.dataset import (
    WORDS,
    batches,
    random_length_documents,
    synthetic_documents,
    text_file_documents,
    with_repeats,
)
from tests.support.models import default_model_source


def test_every_synthetic_word_is_one_bert_token() -> None:
    vocab = set((default_model_source() / "vocab.txt").read_text(encoding="utf-8").split("\n"))
    assert set(WORDS) <= vocab


@pytest.mark.parametrize("tokens", [1, 2, 3, 8, 128, 512])
def test_synthetic_documents_have_the_asked_word_count(tokens: int) -> None:
    documents = synthetic_documents(20, tokens, seed=1)
    assert len(documents) == 20
    # [CLS] and [SEP] come on top of one token per word; never an empty text.
    assert {len(d.split()) for d in documents} == {max(1, tokens - 2)}
    assert all(word in WORDS for d in documents for word in d.split())


def test_synthetic_documents_repeat_per_seed_and_vary_between_documents() -> None:
    first = synthetic_documents(50, 16, seed=7)
    assert first == synthetic_documents(50, 16, seed=7)
    assert first != synthetic_documents(50, 16, seed=8)
    assert len(set(first)) == 50


def test_synthetic_documents_reject_bad_sizes() -> None:
    with pytest.raises(ValueError, match="tokens >= 1"):
        synthetic_documents(1, 0)


def test_random_lengths_stay_in_range() -> None:
    documents = random_length_documents(500, 1, 512, seed=3)
    words = [len(d.split()) for d in documents]
    assert min(words) >= 1
    assert max(words) <= 510
    assert max(words) > 400  # the range is actually used


def test_text_file_skips_blank_lines_and_honours_limit(tmp_path: Path) -> None:
    path = tmp_path / "docs.txt"
    path.write_text("first doc\n\n  \nsecond, with comma\r\nthird\n", encoding="utf-8")
    assert text_file_documents(path) == ["first doc", "second, with comma", "third"]
    assert text_file_documents(path, limit=2) == ["first doc", "second, with comma"]
    assert text_file_documents(path, limit=10) == ["first doc", "second, with comma", "third"]


def test_text_file_without_documents_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n \n", encoding="utf-8")
    with pytest.raises(ValueError, match="no documents"):
        text_file_documents(path)


def test_batches_keep_order_and_a_short_tail() -> None:
    assert batches(["a", "b", "c", "d", "e"], 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert batches([], 3) == []
    with pytest.raises(ValueError, match="batch_size"):
        batches(["a"], 0)


def test_repeats_replace_about_the_asked_share_by_earlier_documents() -> None:
    documents = synthetic_documents(2000, 8)
    repeated = with_repeats(documents, 0.5, seed=3)
    assert len(repeated) == 2000
    assert repeated[0] == documents[0]
    again = sum(1 for i, d in enumerate(repeated) if d in set(repeated[:i]))
    assert 900 < again < 1100
    assert with_repeats(documents, 0.0) == documents
    assert len(set(with_repeats(documents, 1.0))) == 1
    with pytest.raises(ValueError, match="0 <= ratio <= 1"):
        with_repeats(documents, 1.5)
