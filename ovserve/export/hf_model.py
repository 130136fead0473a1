"""Facts about a local Hugging Face model folder, read from its JSON files only.

No transformers import here: the facts decide the export's defaults and are checked before the
slow conversion starts, so a bad source fails in milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovserve.errors import ConfigError
from ovserve.export.dense import DenseLayer, read_dense_layers

# The keys OVMS probes, in its order, for the model's positional limit.
POSITION_KEYS = ("max_position_embeddings", "n_positions", "seq_len", "seq_length", "n_ctx", "sliding_window")
# tokenizer_config.json stores "no limit" as a huge sentinel (int(1e30)); anything above is not a limit.
_SANE_LIMIT = 1_000_000

_POOLING_FLAGS = {
    "pooling_mode_cls_token": "CLS",
    "pooling_mode_mean_tokens": "MEAN",
    "pooling_mode_lasttoken": "LAST",
}


@dataclass(frozen=True, kw_only=True)
class SourceModel:
    """What the export needs to know about the source folder.

    Attributes:
        path: the folder.
        config: the parsed HF `config.json` (all keys, copied into the model's rt_info).
        tokenizer_config: the parsed `tokenizer_config.json`, or `{}`.
        pooling: pooling from `1_Pooling/config.json` (CLS, MEAN or LAST), or None.
        max_seq_length: `sentence_bert_config.json` `max_seq_length`, or None.
        max_position_embeddings: the hard positional limit of the model, or None if it has none.
        tokenizer_max_length: a sane `model_max_length` of the tokenizer, or None.
        sentence_transformers: the folder is a sentence-transformers model (`modules.json`).
        dense: its `Dense` modules, in order (folded into the exported model).
        prompts: `prompts` of `config_sentence_transformers.json` (name -> text), or `{}`.
        default_prompt_name: its `default_prompt_name`, a key of `prompts`, or None.
    """

    path: Path
    config: dict[str, Any]
    tokenizer_config: dict[str, Any]
    pooling: str | None
    max_seq_length: int | None
    max_position_embeddings: int | None
    tokenizer_max_length: int | None
    sentence_transformers: bool = False
    dense: tuple[DenseLayer, ...] = ()
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None

    def default_max_length(self) -> int:
        """`max_seq_length`, else the positional limit, else the tokenizer's own limit.

        Raises:
            ConfigError: the folder states no length at all; the caller must pass --max_length.
        """
        for value in (self.max_seq_length, self.max_position_embeddings, self.tokenizer_max_length):
            if value is not None:
                return value
        raise ConfigError(
            f"{self.path}: no max_seq_length, max_position_embeddings or model_max_length found; "
            "pass --max_length"
        )


def read_source_model(path: Path) -> SourceModel:
    """Read a local HF model folder.

    Raises:
        ConfigError: the folder does not exist, has no `config.json`, or a JSON file is malformed.
    """
    if not path.is_dir():
        raise ConfigError(
            f"--source_model {path}: no such directory (only local model folders are supported)"
        )
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ConfigError(f"--source_model {path}: no config.json, not a Hugging Face model folder")
    config = _read_json_object(config_path)
    tokenizer_config = _read_json_object(path / "tokenizer_config.json", missing_ok=True)
    sbert = _read_json_object(path / "sentence_bert_config.json", missing_ok=True)
    modules = _read_modules(path / "modules.json")
    prompts, default_prompt_name = _read_prompts(path / "config_sentence_transformers.json")
    _check_prompt_pooling(path / "1_Pooling" / "config.json", prompts)
    return SourceModel(
        path=path,
        config=config,
        tokenizer_config=tokenizer_config,
        pooling=_read_pooling(path / "1_Pooling" / "config.json"),
        max_seq_length=_positive_int(sbert.get("max_seq_length")),
        max_position_embeddings=_first_positive_int(config, POSITION_KEYS),
        tokenizer_max_length=_positive_int(tokenizer_config.get("model_max_length")),
        sentence_transformers=(path / "modules.json").is_file(),
        dense=read_dense_layers(path, modules),
        prompts=prompts,
        default_prompt_name=default_prompt_name,
    )


def _read_prompts(path: Path) -> tuple[dict[str, str], str | None]:
    """`prompts` and `default_prompt_name` as sentence-transformers reads them (both optional)."""
    settings = _read_json_object(path, missing_ok=True)
    prompts = settings.get("prompts") or {}
    if not isinstance(prompts, dict) or not all(
        isinstance(key, str) and isinstance(text, str) for key, text in prompts.items()
    ):
        raise ConfigError(f"{path}: prompts must be an object of strings")
    default = settings.get("default_prompt_name")
    if default is not None and (not isinstance(default, str) or default not in prompts):
        raise ConfigError(
            f"{path}: default_prompt_name {default!r} is not one of the prompts "
            f"({', '.join(prompts) or 'none'})"
        )
    return dict(prompts), default


def _check_prompt_pooling(path: Path, prompts: dict[str, str]) -> None:
    # INSTRUCTOR-style models pool without the prompt's tokens (`include_prompt: false`); the
    # pooling calculators pool every real token, so such a model would give other vectors.
    if any(prompts.values()) and _read_json_object(path, missing_ok=True).get("include_prompt") is False:
        raise ConfigError(
            f"{path}: include_prompt false (pooling without the prompt's tokens) is not supported"
        )


def _read_modules(path: Path) -> list[Any]:
    if not path.is_file():
        return []
    data = _read_json(path)
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a JSON list of modules")
    return data


def _read_pooling(path: Path) -> str | None:
    pooling_config = _read_json_object(path, missing_ok=True)
    chosen = [mode for key, mode in _POOLING_FLAGS.items() if pooling_config.get(key) is True]
    if len(chosen) == 1:
        return chosen[0]
    if pooling_config and not chosen:
        # e.g. max or weighted-mean pooling: not something the calculators implement.
        raise ConfigError(f"{path}: pooling mode is not CLS, MEAN or LAST; pass --pooling explicitly")
    if len(chosen) > 1:
        raise ConfigError(f"{path}: more than one pooling mode is enabled; pass --pooling explicitly")
    return None


def _read_json_object(path: Path, *, missing_ok: bool = False) -> dict[str, Any]:
    if missing_ok and not path.is_file():
        return {}
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    return data


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read JSON: {exc}") from exc


def _first_positive_int(config: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = _positive_int(config.get(key))
        if value is not None:
            return value
    return None


def _positive_int(value: object) -> int | None:
    # bool is an int subclass; `true` is not a length.
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < _SANE_LIMIT:
        return value
    return None
