"""The cut is chosen at load, whatever was converted into the tokenizer IR.

OVMS's old exporter baked `--max_length` into the tokenizer (`truncation=True, max_length=N`);
optimum-cli converts without a cut. Both must serve every truncate setting.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import openvino as ov
import pytest

from calculators.ov_tokenizer import TextTokenizer, TokenizerSettings, set_truncation
from ovserve.errors import ConfigError, InvalidArgument
from ovserve.graph.formats.text_options import Cut
from ovserve.graph.formats.tokens import TokenBatch
from ovserve.graph.node_loading import default_core
from tests.calculators.support import LONG_TEXT
from tests.support.models import default_model_source

pytestmark = pytest.mark.slow
TEXTS = ("short text", LONG_TEXT)


@pytest.fixture(scope="module")
def convert() -> Callable[..., ov.Model]:
    import openvino_tokenizers
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(default_model_source()))

    def run(**kwargs: object) -> ov.Model:
        model: ov.Model = openvino_tokenizers.convert_tokenizer(hf, **kwargs)
        return model

    return run


@pytest.mark.parametrize("baked", [None, 128])
def test_every_setting_on_any_tokenizer(convert: Callable[..., ov.Model], baked: int | None) -> None:
    model = convert() if baked is None else convert(truncation=True, max_length=baked)
    core = default_core()
    cut = TextTokenizer(core, model, TokenizerSettings(max_length=200, truncate=True), where="n").encode(
        TEXTS
    )
    assert cut.length == 200
    assert cut.input_ids[1, 0] == 101  # [CLS] ... [SEP] survive the cut
    assert cut.input_ids[1, -1] == 102
    strict = TextTokenizer(core, model, TokenizerSettings(max_length=200, truncate=False), where="n")
    with pytest.raises(InvalidArgument, match=r"^Input length 1\d\d\d longer than allowed 200$"):
        strict.encode(TEXTS)
    assert strict.encode(("short text",)).prompt_tokens == 4
    kept = TextTokenizer(core, model, TokenizerSettings(max_length=200, truncate=None), where="n")
    if baked is None:  # as exported: no cut, so the length rule rejects
        with pytest.raises(InvalidArgument, match="longer than allowed 200"):
            kept.encode(TEXTS)
    else:  # as exported: cut at the baked 128, within M
        np.testing.assert_array_equal(kept.encode(TEXTS).attention_mask.sum(axis=1), [4, 128])


def test_max_length_must_leave_room_for_special_tokens(convert: Callable[..., ov.Model]) -> None:
    with pytest.raises(ConfigError, match="max length 2 leaves no room next to 2 special tokens"):
        TextTokenizer(default_core(), convert(), TokenizerSettings(max_length=2, truncate=True), where="n")


def test_set_truncation_needs_a_truncate_operation() -> None:
    from openvino import opset13

    text = opset13.parameter([-1], ov.Type.string, name="text")
    with pytest.raises(ConfigError, match="no Truncate operation"):
        set_truncation(ov.Model([opset13.shape_of(text)], [text], "toy"), 10, where="n")


def test_compiled_variants_are_reused_across_loads(convert: Callable[..., ov.Model]) -> None:
    """A graph reload with an unchanged tokenizer compiles nothing (the cache is bounded)."""
    from calculators import ov_tokenizer

    model, other = convert(), convert()
    core = default_core()
    first = ov_tokenizer.compiled_variant(core, model, 100, where="n")
    assert ov_tokenizer.compiled_variant(core, model, 100, where="n") is first
    assert ov_tokenizer.compiled_variant(core, model, 50, where="n") is not first
    assert ov_tokenizer.compiled_variant(core, other, 100, where="n") is not first
    for limit in range(ov_tokenizer.VARIANT_CACHE_SIZE):
        ov_tokenizer.compiled_variant(core, other, 10 + limit, where="n")
    assert ov_tokenizer.compiled_variant(core, model, 100, where="n") is not first  # evicted
    assert len(ov_tokenizer._VARIANTS) <= ov_tokenizer.VARIANT_CACHE_SIZE


def test_a_reloaded_tokenizer_node_tokenizes_the_same(convert: Callable[..., ov.Model]) -> None:
    model = convert()
    settings = TokenizerSettings(max_length=200, truncate=True)
    first = TextTokenizer(default_core(), model, settings, where="n").encode(TEXTS)
    again = TextTokenizer(default_core(), model, settings, where="n").encode(TEXTS)
    assert np.array_equal(first.input_ids, again.input_ids)


@pytest.mark.parametrize("truncate", [True, False, None])
@pytest.mark.parametrize("baked", [None, 128])
def test_a_request_cut_gives_the_hugging_face_ids_on_any_graph(
    convert: Callable[..., ov.Model], baked: int | None, truncate: bool | None
) -> None:
    """A request's cut (`truncate_prompt_tokens`, `truncate`) whatever the node's setting and
    whatever was converted in: a cut converted at 128 must not cap a request's cut at 150."""
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(default_model_source()))
    model = convert() if baked is None else convert(truncation=True, max_length=baked)
    tokenizer = TextTokenizer(
        default_core(), model, TokenizerSettings(max_length=200, truncate=truncate), where="n"
    )
    for limit in (5, 150, 200):
        batch = tokenizer.encode(TEXTS, Cut(limit=limit))
        assert [list(row) for row in batch.rows()] == hf(list(TEXTS), truncation=True, max_length=limit)[
            "input_ids"
        ]
    with pytest.raises(InvalidArgument, match=r"^Input length 1\d\d\d longer than allowed 200$"):
        tokenizer.encode(TEXTS, Cut(limit=None))
    assert tokenizer.encode(("short text",), Cut(limit=None)).prompt_tokens == 4


@pytest.mark.parametrize("truncate", [True, False, None])
@pytest.mark.parametrize("baked", [None, 128])
def test_requests_tokenized_together_get_what_each_gets_alone(
    convert: Callable[..., ov.Model], baked: int | None, truncate: bool | None
) -> None:
    """`encode_many` (a batch of runs at the tokenizer node) merges the texts the graph's own
    call serves; every request still gets the rows, cut and length check it gets alone."""
    model = convert() if baked is None else convert(truncation=True, max_length=baked)
    tokenizer = TextTokenizer(
        default_core(), model, TokenizerSettings(max_length=200, truncate=truncate), where="n"
    )
    requests: list[tuple[tuple[str, ...], Cut | None]] = [
        (("a b c",), None),
        (TEXTS, Cut(limit=5)),
        (("short text", "one two three four five six"), Cut(limit=200, explicit=False)),
        (TEXTS, Cut(limit=150)),
        (("x",), Cut(limit=None)),
    ]
    alone: list[TokenBatch | str] = []
    for texts, cut in requests:
        try:
            alone.append(tokenizer.encode(texts, cut))
        except InvalidArgument as exc:
            alone.append(exc.message)
    fits = [request for request, one in zip(requests, alone, strict=True) if not isinstance(one, str)]
    together = tokenizer.encode_many(fits)
    expected = [one for one in alone if not isinstance(one, str)]
    assert len(together) == len(expected) >= 3
    for got, want in zip(together, expected, strict=True):
        assert isinstance(want, TokenBatch)
        np.testing.assert_array_equal(got.input_ids, want.input_ids)
        np.testing.assert_array_equal(got.attention_mask, want.attention_mask)
        np.testing.assert_array_equal(got.token_type_ids, want.token_type_ids)
    if any(isinstance(one, str) for one in alone):  # a request that breaks the rule fails the call
        with pytest.raises(InvalidArgument, match="longer than allowed 200"):
            tokenizer.encode_many(requests)
