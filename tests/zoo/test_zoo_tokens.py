"""TEI's `/tokenize` details and `/decode` on every zoo architecture, against the Hugging Face
tokenizer: each token's id, special flag, byte offsets and text as TEI derives them from
`tokenizers`' offsets (`text` is the input's bytes at the offsets; a special token's is its own
string), and `decode` with and without special tokens.

Run through the loaded graph (the exported workspace's detokenizer, found beside the tokenizer).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ovserve.graph.formats.tokenize import (
    DecodeRequest,
    DecodeResult,
    TokenDetail,
    TokenizeRequest,
    TokenizeResult,
)
from tests.zoo.support import ZOO_TEXTS, ZooCase, prompt_names, st_prompt

pytestmark = pytest.mark.slow

# Beyond the zoo texts: a typed special token, characters the small vocabularies lack, ligatures.
TEXTS = (*ZOO_TEXTS, "a [SEP] b", "I ❤ 🍕 naïve Straße", "Ǆ ﬁle ½ ÀÉÎÕÜ çà")


def details(
    zoo: ZooCase, texts: Sequence[str], *, add_special_tokens: bool = True
) -> list[list[TokenDetail]]:
    call = TokenizeRequest(texts=tuple(texts), add_special_tokens=add_special_tokens, details=True)
    result = zoo.graph.run_sync({"input": call})["output"]
    assert isinstance(result, TokenizeResult)
    return [list(row) for row in result.details]


def tei_tokens(zoo: ZooCase, text: str, *, add_special_tokens: bool = True) -> list[TokenDetail]:
    """What TEI answers, from the Hugging Face tokenizer's ids, mask and character offsets."""
    encoding = zoo.hf_tokenizer(
        text,
        add_special_tokens=add_special_tokens,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
    )
    ids = encoding["input_ids"]
    names = zoo.hf_tokenizer.convert_ids_to_tokens(ids)
    tokens = []
    for token, name, special, (first, last) in zip(
        ids, names, encoding["special_tokens_mask"], encoding["offset_mapping"], strict=True
    ):
        if special:
            tokens.append(TokenDetail(id=token, text=name, special=True, start=None, stop=None))
            continue
        start, stop = len(text[:first].encode()), len(text[:last].encode())
        tokens.append(TokenDetail(id=token, text=text[first:last], special=False, start=start, stop=stop))
    return tokens


def test_tokenize_details_are_what_tei_answers(zoo: ZooCase) -> None:
    got = details(zoo, TEXTS)
    differ = [(text, row) for text, row in zip(TEXTS, got, strict=True) if row != tei_tokens(zoo, text)]
    assert not differ, f"{zoo.name}: {differ[:2]}"


def test_without_special_tokens_every_token_is_content(zoo: ZooCase) -> None:
    got = details(zoo, TEXTS[:4], add_special_tokens=False)
    want = [tei_tokens(zoo, text, add_special_tokens=False) for text in TEXTS[:4]]
    assert got == want
    assert not any(token.special for row in got for token in row)


@pytest.mark.parametrize("skip", [True, False])
def test_decode_is_the_hugging_face_decode(zoo: ZooCase, skip: bool) -> None:
    rows = tuple(tuple(row) for row in zoo.hf_tokenizer(list(TEXTS))["input_ids"])
    result = zoo.graph.run_sync({"input": DecodeRequest(rows=(*rows, ()), skip_special_tokens=skip)})[
        "output"
    ]
    assert isinstance(result, DecodeResult)
    want = [zoo.hf_tokenizer.decode(list(row), skip_special_tokens=skip) for row in rows]
    assert list(result.texts) == [*want, ""]


def test_tokenize_counts_offsets_in_the_prompted_text(zoo: ZooCase) -> None:
    """As `/embed` embeds it: the named prompt, else the model's default one, goes first."""
    for name in (None, *prompt_names(zoo)):
        call = TokenizeRequest(texts=TEXTS[:3], details=True, prompted=True, prompt_name=name)
        result = zoo.graph.run_sync({"input": call})["output"]
        assert isinstance(result, TokenizeResult)
        prompt = st_prompt(zoo.model, name)
        assert [list(row) for row in result.details] == [tei_tokens(zoo, prompt + text) for text in TEXTS[:3]]
