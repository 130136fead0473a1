"""Per-request tokenization options of an embeddings call: the prompt and the truncation.

The request fields, as TEI, sentence-transformers and vLLM name them:

`prompt_name` (string)
    A key of the model's sentence-transformers `prompts` (recorded by the export, see
    `ovserve.runtime.rt_info`); its text is put before every input text, as
    `SentenceTransformer.encode(texts, prompt_name=...)` does (`prompt + text`, and then the
    surrounding whitespace of the whole is stripped where the model strips text). Absent: the
    model's `default_prompt_name`, if it has one, else no prompt. An unknown name is refused,
    naming the known ones. Token-id input is final: a named prompt is refused for it, and the
    default prompt is not applied.
`truncate` (boolean, TEI)
    true: cut every input to the graph's maximum length M; false: refuse an input longer than
    M (`Input length N longer than allowed M`); absent or null: the graph's own setting.
`truncate_prompt_tokens` (integer, vLLM)
    N >= 1: cut every input to N tokens (N <= M); -1: cut to M; absent or null: as `truncate`
    says. With `truncate: false` it is a contradiction and refused.

A cut keeps what the Hugging Face tokenizer keeps with `truncation=True, max_length=N`: the
tokens of the text (prompt included) from the start, then the special tokens the tokenizer adds
(`[CLS] … [SEP]`, a decoder's EOS); `usage.prompt_tokens` counts the tokens after the cut.
Token-id input is cut to its first N ids (TEI's default direction; vLLM keeps the last N ids of
token input, ovserve cuts both kinds of input at the end).

Everything here is pure: the tokenizer node resolves the options against the graph's settings
(`resolve_cut`) and its recorded prompts (`Prompts.prompt_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ovserve.errors import InvalidArgument

TO_MAX_LENGTH = -1
"""`truncate_prompt_tokens` value meaning "the graph's maximum length" (as vLLM's -1)."""


@dataclass(frozen=True, kw_only=True)
class TextOptions:
    """The validated request fields; None means the field was absent (or null)."""

    prompt_name: str | None = None
    truncate: bool | None = None
    truncate_prompt_tokens: int | None = None

    @property
    def is_default(self) -> bool:
        return self.prompt_name is None and self.truncate is None and self.truncate_prompt_tokens is None


DEFAULT_OPTIONS = TextOptions()


def parse_text_options(body: Mapping[str, object]) -> TextOptions:
    """`prompt_name`, `truncate` and `truncate_prompt_tokens` of an embeddings body.

    Raises:
        InvalidArgument: a field of the wrong type or value, or both truncation fields set in
            contradiction (`truncate: false` with `truncate_prompt_tokens`).
    """
    prompt_name = body.get("prompt_name")
    if prompt_name is not None and not isinstance(prompt_name, str):
        raise InvalidArgument("prompt_name should be string")
    truncate = body.get("truncate")
    if truncate is not None and not isinstance(truncate, bool):
        raise InvalidArgument("truncate should be boolean")
    tokens = body.get("truncate_prompt_tokens")
    if tokens is not None:
        # bool is an int in Python but not a JSON number.
        if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens == 0 or tokens < TO_MAX_LENGTH:
            raise InvalidArgument(
                "truncate_prompt_tokens should be -1 (the maximum length) or a positive integer, "
                f"got {tokens!r}"
            )
        if truncate is False:
            raise InvalidArgument("truncate_prompt_tokens cannot be used with truncate false")
    return TextOptions(prompt_name=prompt_name, truncate=truncate, truncate_prompt_tokens=tokens)


@dataclass(frozen=True, kw_only=True)
class Cut:
    """How one request's inputs are cut: to `limit` tokens, or not at all (`limit` None, and
    then N > M is refused). `explicit` is False when the graph's own setting applies."""

    limit: int | None
    explicit: bool = True


def resolve_cut(options: TextOptions, *, max_length: int, graph_truncates: bool | None, special: int) -> Cut:
    """The cut a request asks for, against the graph's maximum length M (`max_length`).

    `graph_truncates` is the graph's own setting (None: as converted into the tokenizer, which
    the caller handles); `special` is how many special tokens the tokenizer adds to a text.

    Raises:
        InvalidArgument: `truncate_prompt_tokens` above M, or too small to keep any text next to
            the special tokens.
    """
    tokens = options.truncate_prompt_tokens
    if tokens is not None:
        if tokens == TO_MAX_LENGTH:
            return Cut(limit=max_length)
        if tokens > max_length:
            raise InvalidArgument(
                f"truncate_prompt_tokens {tokens} exceeds the maximum length {max_length} of this graph"
            )
        if tokens <= special:
            raise InvalidArgument(
                f"truncate_prompt_tokens {tokens} leaves no room for text next to the "
                f"{special} special tokens this tokenizer adds"
            )
        return Cut(limit=tokens)
    if options.truncate is not None:
        return Cut(limit=max_length if options.truncate else None)
    return Cut(limit=max_length if graph_truncates else None, explicit=False)


@dataclass(frozen=True, kw_only=True)
class Prompts:
    """A model's sentence-transformers prompts, as its export recorded them."""

    prompts: Mapping[str, str] = field(default_factory=dict)
    default_name: str | None = None

    def prompt_for(self, name: str | None) -> str:
        """The text to put before each input text for a request naming `name` (None: none named).

        Raises:
            InvalidArgument: `name` is not one of the prompts (the message names the known ones).
        """
        if name is None:
            return self.prompts.get(self.default_name, "") if self.default_name is not None else ""
        if name in self.prompts:
            return self.prompts[name]
        if not self.prompts:
            raise InvalidArgument(f"prompt_name {name!r} is not available: this model has no prompts")
        known = ", ".join(repr(key) for key in self.prompts)
        raise InvalidArgument(f"prompt_name {name!r} is not one of this model's prompts: {known}")
