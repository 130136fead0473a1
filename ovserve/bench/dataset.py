"""Documents for the load generator: synthetic texts of a chosen token length, or a text file.

Synthetic documents need no tokenizer. They are made of common English words that are each
exactly one WordPiece token in BERT's uncased vocabulary, so a document of `n` tokens (the
length a BERT tokenizer reports, [CLS] and [SEP] included) is `n - 2` such words. For other
tokenizers the count is approximate: most of these words are single tokens in any English
vocabulary.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

# Every word is one token in bert-base-uncased's vocab.txt (checked by tests/bench).
_WORD_LIST = """the of and to in is was for on as with by at from that this it be are or an not but which
    have has had were one all their they there been more also new first time other some can would
    when what only into who its than may after two these most over many such made used years people
    city world state year part during about between under while well like where three both then
    them each through any because same much war day life work house water long name small high
    school music group team game line book film word story area order case point form home number
    system power night place light hand side end way back country family king church student
    market body field river road party land report law money"""
WORDS: tuple[str, ...] = tuple(_WORD_LIST.split())
SPECIAL_TOKENS = 2
"""[CLS] and [SEP]: what a BERT tokenizer adds to every text."""


def synthetic_document(tokens: int, rng: random.Random) -> str:
    """A text of `tokens` BERT tokens (specials included); at least one word, so never empty."""
    count = max(1, tokens - SPECIAL_TOKENS)
    return " ".join(rng.choices(WORDS, k=count))


def synthetic_documents(count: int, tokens: int, *, seed: int = 0) -> list[str]:
    """`count` different documents of `tokens` tokens each, the same for the same `seed`.

    Raises:
        ValueError: `count` < 0 or `tokens` < 1.
    """
    if count < 0 or tokens < 1:
        raise ValueError(f"need count >= 0 and tokens >= 1, got {count} and {tokens}")
    rng = random.Random(seed)
    return [synthetic_document(tokens, rng) for _ in range(count)]


def with_repeats(documents: list[str], ratio: float, *, seed: int = 0) -> list[str]:
    """`documents` with about `ratio` of them replaced by earlier ones (the first always new).

    For measuring a cache: each document after the first is, with probability `ratio`, a copy of
    one sent before it, so a cache that keeps everything answers that share.

    Raises:
        ValueError: `ratio` outside 0..1.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"need 0 <= ratio <= 1, got {ratio}")
    rng = random.Random(seed)
    out: list[str] = []
    for document in documents:
        out.append(rng.choice(out) if out and rng.random() < ratio else document)
    return out


def random_length_documents(count: int, low: int, high: int, *, seed: int = 0) -> list[str]:
    """`count` documents whose token lengths are drawn uniformly from `low..high` (inclusive)."""
    if not 1 <= low <= high:
        raise ValueError(f"need 1 <= low <= high, got {low}..{high}")
    rng = random.Random(seed)
    return [synthetic_document(rng.randint(low, high), rng) for _ in range(count)]


def text_file_documents(path: Path, limit: int | None = None) -> list[str]:
    """The non-blank lines of a UTF-8 text file (one document per line), at most `limit` of them.

    Line ends are stripped; other whitespace is kept. A file with fewer lines than `limit`
    gives all of them.

    Raises:
        OSError: the file cannot be read.
        ValueError: the file holds no non-blank line.
    """
    documents: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            documents.append(text)
            if limit is not None and len(documents) >= limit:
                break
    if not documents:
        raise ValueError(f"{path}: no documents (the file has no non-blank line)")
    return documents


def batches(documents: Sequence[str], batch_size: int) -> list[list[str]]:
    """Consecutive groups of `batch_size` documents; the last group may be smaller.

    Raises:
        ValueError: `batch_size` < 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return [list(documents[i : i + batch_size]) for i in range(0, len(documents), batch_size)]
