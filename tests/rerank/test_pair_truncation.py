"""Pairs are cut as the Hugging Face fast tokenizer cuts them (`truncation=True`, longest_first).

Checked against the BERT cross-encoder's own tokenizer for every combination of short, long
and very long query and document, both orders: our layout of its single-text ids must equal
the ids, mask and token types its pair encoding gives.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from calculators.pair_tokenizer_calculator import PairTemplate, longest_first, pair_batch
from ovserve.export.rerank import pair_template
from tests.support.cross_encoders import MAX_LENGTH, cross_encoder

pytestmark = pytest.mark.slow

LENGTHS = (0, 1, 5, 30, 31, 32, 33, 61, 62, 63, 100)


def test_longest_first_keeps_what_fits_and_halves_when_both_are_long() -> None:
    assert longest_first(10, 20, 62) == (10, 20)
    assert longest_first(10, 100, 62) == (10, 52)
    assert longest_first(100, 10, 62) == (52, 10)
    assert longest_first(40, 40, 62) == (31, 31)
    assert longest_first(40, 40, 61) == (30, 31)
    assert longest_first(41, 40, 61) == (31, 30)


def test_pairs_equal_the_hf_tokenizers_pair_encoding() -> None:
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(cross_encoder("bert")))
    template = PairTemplate(**{k: tuple(v) for k, v in pair_template(hf).items()})
    words = [f"w{i}" for i in range(200)]
    for q, d in itertools.product(LENGTHS, repeat=2):
        query, document = " ".join(words[:q]), " ".join(words[100 : 100 + d])
        # A batch of pairs, as CrossEncoder calls it (a lone `hf(q, "")` would drop the empty pair).
        encoded = hf([[query, document]], truncation=True, max_length=MAX_LENGTH, return_token_type_ids=True)
        want = {key: value[0] for key, value in encoded.items()}
        ids = [hf(text, add_special_tokens=False)["input_ids"] for text in (query, document)]
        got = pair_batch(ids[0], [ids[1]], template, max_length=MAX_LENGTH, pad_token_id=0)
        assert got.input_ids[0].tolist() == want["input_ids"], (q, d)
        assert got.token_type_ids[0].tolist() == want["token_type_ids"], (q, d)
        assert np.all(got.attention_mask == 1)
