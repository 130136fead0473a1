"""Each token of a text with its own text and where it sits in the text (TEI's `/tokenize`).

openvino-tokenizers models return ids only, so positions are found afterwards, in one of two ways:
  * byte-level tokenizers (GPT-2 style BPE: Qwen, Llama 3, ...) spell the text exactly with
    their tokens' vocabulary bytes. When the content tokens' bytes join into the text, each
    token's position is where its bytes fall, widened to whole characters (a character split
    across tokens gives each of them the whole character, as Hugging Face's offsets do).
  * otherwise (WordPiece, SentencePiece, ...) every token's text, decoded alone, is looked for
    in the text after the previous token's. Both are compared folded (case-folded,
    compatibility-decomposed, accents and whitespace dropped), which undoes what those
    tokenizers normalize (BERT's lower-casing and accent stripping, SentencePiece's `▁`). A
    token not found within a few characters of where the previous one ended gets none, and
    the tokens after it go on from there; unplaced tokens between placed ones then take the
    words that lie between (`[UNK]` stands for a character the vocabulary lacks).

Positions are UTF-8 byte offsets `[start, stop)` into the tokenized text, as TEI gives them; a
token with a position has the input's own text there (`Straße`, not the lower-cased `straße`).
Known differences from Hugging Face's offsets: a byte-level tokenizer converted with
`trim_offsets` (RoBERTa) keeps the leading space in its tokens here; a SentencePiece `▁` token
standing alone gets no position.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ovserve.graph.formats.tokenize import TokenDetail

# How far past the previous token's end a token's text may start: room for characters no token
# covers (dropped by the tokenizer, or held by tokens that got no position).
SEARCH_WINDOW = 16
_REPLACEMENT = "\ufffd"
_Span = tuple[int, int]  # [first, last) of characters (folded search) or bytes (byte-level)
# How a gap between placed tokens may split into tokens: at whitespace, else also (as BERT's basic
# tokenizer splits) around every CJK ideograph and every punctuation or symbol character.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_WORDS = re.compile(r"\S+")
_UNITS = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")


def fold(text: str) -> str:
    """`text` as compared here: case-folded, NFKD, without combining marks or whitespace."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace())


class _FoldedText:
    """A text folded character by character, remembering which character each folded one came from."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        owners: list[int] = []
        for index, char in enumerate(text):
            for folded in fold(char):
                chars.append(folded)
                owners.append(index)
        self.folded = "".join(chars)
        self.owners = owners
        self.byte_at = [0]
        for char in text:
            self.byte_at.append(self.byte_at[-1] + len(char.encode("utf-8", "surrogatepass")))

    def find(self, piece: str, cursor: int) -> _Span | None:
        """The folded span `piece` covers at `cursor` or at most `SEARCH_WINDOW` past it."""
        at = self.folded.find(piece, cursor, cursor + SEARCH_WINDOW + len(piece))
        return None if at < 0 else (at, at + len(piece))


def token_details(
    text: str,
    ids: Sequence[int],
    pieces: Sequence[str],
    raw: Sequence[bytes],
    special: Sequence[bool],
) -> tuple[TokenDetail, ...]:
    """One `TokenDetail` per id of `text`'s tokens.

    `pieces[i]` is `ids[i]` decoded alone, `raw[i]` its vocabulary bytes
    (`Detokenizer.raw_pieces`), `special[i]` whether the tokenizer added it. Special tokens keep
    their own text and get no position.
    """
    encoded = text.encode("utf-8", "surrogatepass")
    if b"".join(piece for piece, is_special in zip(raw, special, strict=True) if not is_special) == encoded:
        spans = _byte_spans(encoded, raw, special)
        byte_at = None
    else:
        source = _FoldedText(text)
        folded = [fold(piece) for piece in pieces]
        blank = [not is_special and not f for f, is_special in zip(folded, special, strict=True)]
        spans = _fill_gaps(text, _placed(source, pieces, folded, special), special, blank)
        _place_blanks(spans, blank)
        byte_at = source.byte_at
    details = []
    for token, piece, is_special, span in zip(ids, pieces, special, spans, strict=True):
        if span is None:
            details.append(TokenDetail(id=token, text=piece, special=is_special, start=None, stop=None))
            continue
        start, stop = span if byte_at is None else (byte_at[span[0]], byte_at[span[1]])
        covered = encoded[start:stop].decode("utf-8", "replace")
        details.append(TokenDetail(id=token, text=covered, special=False, start=start, stop=stop))
    return tuple(details)


def _byte_spans(encoded: bytes, raw: Sequence[bytes], special: Sequence[bool]) -> list[_Span | None]:
    """Byte-level tokens (their bytes spell the text exactly): each one's bytes, widened to
    whole characters, as Hugging Face gives every token of a character split across several."""
    spans: list[_Span | None] = []
    cursor = 0
    for piece, is_special in zip(raw, special, strict=True):
        if is_special or not piece:
            spans.append(None)
            continue
        start, stop = cursor, cursor + len(piece)
        cursor = stop
        while start > 0 and encoded[start] & 0xC0 == 0x80:  # a UTF-8 continuation byte
            start -= 1
        while stop < len(encoded) and encoded[stop] & 0xC0 == 0x80:
            stop += 1
        spans.append((start, stop))
    return spans


def _fill_gaps(
    text: str, spans: list[_Span | None], special: Sequence[bool], blank: Sequence[bool]
) -> list[_Span | None]:
    """Content tokens left unplaced between two placed neighbours (or the text's ends) take
    what lies between them when it splits into as many words as they are: the unknown token
    (`[UNK]`) is how a tokenizer spells a character it has no token for. Blank tokens (no text
    of their own) do not count; `_place_blanks` places them."""
    content = [i for i, is_special in enumerate(special) if not is_special and not blank[i]]
    rank = 0
    while rank < len(content):
        if spans[content[rank]] is not None:
            rank += 1
            continue
        run_end = rank
        while run_end < len(content) and spans[content[run_end]] is None:
            run_end += 1
        left = spans[content[rank - 1]] if rank > 0 else None
        right = spans[content[run_end]] if run_end < len(content) else None
        low = left[1] if left is not None else 0
        high = right[0] if right is not None else len(text)
        for pattern in (_WORDS, _UNITS):
            words = [(m.start() + low, m.end() + low) for m in pattern.finditer(text[low:high])]
            if len(words) == run_end - rank:
                for index, word in zip(content[rank:run_end], words, strict=True):
                    spans[index] = word
                break
        rank = run_end
    return spans


def _place_blanks(spans: list[_Span | None], blank: Sequence[bool]) -> None:
    """A blank token (SentencePiece's lone `▁`, which stands for the space before a word) gets
    the first character of the token after it, as Hugging Face's offsets give it."""
    for i in reversed(range(len(spans))):
        following = spans[i + 1] if i + 1 < len(spans) else None
        if blank[i] and following is not None:
            spans[i] = (following[0], following[0] + 1)


def _placed(
    source: _FoldedText, pieces: Sequence[str], folded_pieces: Sequence[str], special: Sequence[bool]
) -> list[_Span | None]:
    """Each content token's `[first, last)` character span found by its folded text, else None."""
    cursor = 0
    spans: list[_Span | None] = []
    for piece, folded, is_special in zip(pieces, folded_pieces, special, strict=True):
        found = None if is_special or not folded or _REPLACEMENT in piece else source.find(folded, cursor)
        if found is None:
            spans.append(None)
            continue
        cursor = found[1]
        spans.append((source.owners[found[0]], source.owners[found[1] - 1] + 1))
    return spans
