"""What a workspace says about its embeddings model: max length, pooling, truncation, padding.

Sources, first hit wins (OVMS's rules, and `ovserve.runtime.rt_info`):

* the embeddings IR's rt_info `model_info` section: the `ovserve_*` keys our exporter records,
  then the HF `config.json` keys OVMS's exporter copies there;
* the HF `config.json` next to the IR (the flat `embeddings_ov` layout), and
  `1_Pooling/config.json` for the pooling of sentence-transformers models;
* the tokenizer IR's rt_info (`pad_token_id`, written by openvino_tokenizers);
* OVMS defaults: max length 1024, pad id 0, CLS pooling.

All functions are pure reads, run once per graph load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ovserve.errors import ConfigError
from ovserve.graph.formats.text_options import Prompts
from ovserve.runtime import rt_info

if TYPE_CHECKING:
    import openvino

DEFAULT_MAX_LENGTH = 1024
"""OVMS 2025.0+ default when neither the export nor the model config states a limit."""
# HEAD OVMS reads these config.json keys in this order; `max_trained_positions` is the old
# calculator's second key (nomic-bert style models).
MAX_LENGTH_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "seq_len",
    "seq_length",
    "n_ctx",
    "sliding_window",
    "max_trained_positions",
)
POOLING_MODES = ("CLS", "MEAN", "LAST")
_ST_POOLING_KEYS = {
    "pooling_mode_cls_token": "CLS",
    "pooling_mode_mean_tokens": "MEAN",
    "pooling_mode_lasttoken": "LAST",
}
_ST_UNSUPPORTED = (
    "pooling_mode_max_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
)


def model_info(model: openvino.Model | None) -> dict[str, str]:
    """The IR's `model_info` rt_info section as strings ({} for None or none recorded)."""
    return {} if model is None else rt_info.read_model_info(model)


def hf_config(model_dir: Path | None) -> dict[str, object]:
    """`<model_dir>/config.json` as a dict ({} when absent or unreadable as an object)."""
    if model_dir is None or not (model_dir / "config.json").is_file():
        return {}
    try:
        data = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value)
        return number if number > 0 else None
    return None


def max_length(info: dict[str, str], config: dict[str, object]) -> int:
    """M: the exporter's recorded max length, else the model's positional limit, else 1024."""
    recorded = _positive_int(info.get(rt_info.KEY_MAX_LENGTH))
    if recorded is not None:
        return recorded
    limit = positional_limit(info, config)
    return limit if limit is not None else DEFAULT_MAX_LENGTH


def positional_limit(info: dict[str, str], config: dict[str, object]) -> int | None:
    """The model's own length limit (first of `MAX_LENGTH_KEYS` in rt_info, then config.json)."""
    for source in (info, config):
        for key in MAX_LENGTH_KEYS:
            found = _positive_int(source.get(key))
            if found is not None:
                return found
    return None


def recorded_truncate(info: dict[str, str]) -> bool | None:
    """The exporter's `ovserve_truncate`, or None when the IR was not exported by ovserve."""
    value = info.get(rt_info.KEY_TRUNCATE)
    return None if value is None else value.strip().lower() == "true"


def recorded_strip_text(info: dict[str, str]) -> bool:
    """The exporter's `ovserve_strip_text` (false when absent, as OVMS tokenizes texts as sent)."""
    return info.get(rt_info.KEY_STRIP_TEXT, "").strip().lower() == "true"


def recorded_prompts(*infos: dict[str, str], where: str) -> Prompts:
    """The exporter's `ovserve_prompts` and `ovserve_default_prompt_name`, from the first of
    `infos` that records them (none recorded: no prompts, as for OVMS exports).

    Raises:
        ConfigError: the recorded prompts are not a JSON object of strings, or the default
            names none of them.
    """
    for info in infos:
        text = info.get(rt_info.KEY_PROMPTS)
        if text is None:
            continue
        try:
            prompts = json.loads(text) if text.strip() else {}
        except ValueError:
            prompts = None
        if not isinstance(prompts, dict) or not all(isinstance(v, str) for v in prompts.values()):
            message = f"rt_info {rt_info.KEY_PROMPTS} is not a JSON object of strings: {text!r}"
            raise ConfigError(f"{where}: {message}")
        default = info.get(rt_info.KEY_DEFAULT_PROMPT_NAME, "") or None
        if default is not None and default not in prompts:
            raise ConfigError(
                f"{where}: rt_info {rt_info.KEY_DEFAULT_PROMPT_NAME} {default!r} is not one of the prompts"
            )
        return Prompts(prompts={str(k): v for k, v in prompts.items()}, default_name=default)
    return Prompts()


def int_fact(key: str, info: dict[str, str], config: dict[str, object]) -> int | None:
    """A non-negative integer such as `pad_token_id` or `vocab_size`, from rt_info or config.json."""
    for source in (info, config):
        value = source.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
    return None


def tokenizer_pad_id(tokenizer: openvino.Model | None) -> int | None:
    """`pad_token_id` that openvino_tokenizers records at the top level of the tokenizer's rt_info."""
    if tokenizer is None or not tokenizer.has_rt_info("pad_token_id"):
        return None
    text = tokenizer.get_rt_info("pad_token_id").astype(str).strip()
    return int(text) if text.isdigit() else None


def detect_pooling(info: dict[str, str], model_dir: Path | None, *, where: str) -> str | None:
    """Pooling recorded by the export (`ovserve_pooling`) or by sentence-transformers.

    Returns None when neither says anything (the caller applies its fallback).

    Raises:
        ConfigError: the recorded mode is unknown or `1_Pooling/config.json` asks for a mode
            ovserve does not implement (max, sqrt-length, weighted mean) or for several.
    """
    recorded = info.get(rt_info.KEY_POOLING)
    if recorded:
        mode = recorded.strip().upper()
        if mode not in POOLING_MODES:
            raise ConfigError(
                f"{where}: rt_info {rt_info.KEY_POOLING} {recorded!r} is not one of CLS, MEAN, LAST"
            )
        return mode
    path = model_dir / "1_Pooling" / "config.json" if model_dir is not None else None
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{where}: {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {path} is not a JSON object")
    unsupported = [key for key in _ST_UNSUPPORTED if data.get(key) is True]
    chosen = [mode for key, mode in _ST_POOLING_KEYS.items() if data.get(key) is True]
    if unsupported or len(chosen) != 1:
        raise ConfigError(
            f"{where}: {path} must enable exactly one of {', '.join(_ST_POOLING_KEYS)} "
            f"(unsupported or ambiguous: {', '.join(unsupported + chosen) or 'none enabled'})"
        )
    return chosen[0]
