"""How many tokens a model's position table holds.

RoBERTa-style models (RoBERTa, XLM-R, CamemBERT) number positions from `pad_token_id + 1`, so
their `max_position_embeddings` of 514 holds 512 tokens; other models hold what they state.
"""

from __future__ import annotations

from collections.abc import Mapping

OFFSET_POSITION_MODELS = ("roberta", "xlm-roberta", "camembert")


def usable_positions(config: Mapping[str, object], limit: int | None) -> int | None:
    """The longest input a model with `config` (HF `config.json` keys) and a position table of
    `limit` entries takes; None when `limit` is None."""
    pad = config.get("pad_token_id")
    if isinstance(pad, str) and pad.strip().isdigit():
        pad = int(pad)  # rt_info holds config.json values as text
    if limit is None or config.get("model_type") not in OFFSET_POSITION_MODELS:
        return limit
    if not isinstance(pad, int) or isinstance(pad, bool):
        return limit
    return limit - pad - 1
