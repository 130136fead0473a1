"""Workspace facts: max length, truncation and pooling sources, first hit wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calculators import model_facts
from ovserve.errors import ConfigError


def test_max_length_order() -> None:
    assert model_facts.max_length({"ovserve_max_length": "256", "max_position_embeddings": "512"}, {}) == 256
    assert model_facts.max_length({"max_position_embeddings": "512"}, {"n_positions": 2048}) == 512
    assert model_facts.max_length({"max_trained_positions": "2048"}, {}) == 2048
    assert model_facts.max_length({}, {"seq_length": 8192}) == 8192
    assert model_facts.max_length({}, {"max_position_embeddings": True}) == 1024
    assert model_facts.max_length({}, {}) == model_facts.DEFAULT_MAX_LENGTH == 1024


def test_positional_limit() -> None:
    assert model_facts.positional_limit({"ovserve_max_length": "256"}, {"n_ctx": 2048}) == 2048
    assert model_facts.positional_limit({}, {}) is None


def test_recorded_truncate() -> None:
    assert model_facts.recorded_truncate({"ovserve_truncate": "true"}) is True
    assert model_facts.recorded_truncate({"ovserve_truncate": "false"}) is False
    assert model_facts.recorded_truncate({}) is None


def write_pooling(tmp_path: Path, **modes: bool) -> Path:
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(modes))
    return tmp_path


def test_pooling_rt_info_wins_over_sentence_transformers(tmp_path: Path) -> None:
    folder = write_pooling(tmp_path, pooling_mode_mean_tokens=True)
    assert model_facts.detect_pooling({"ovserve_pooling": "last"}, folder, where="n") == "LAST"
    assert model_facts.detect_pooling({}, folder, where="n") == "MEAN"
    assert model_facts.detect_pooling({}, tmp_path / "absent", where="n") is None
    assert model_facts.detect_pooling({}, None, where="n") is None


@pytest.mark.parametrize(
    "modes",
    [
        {"pooling_mode_max_tokens": True},
        {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True},
        {"pooling_mode_mean_tokens": False},
    ],
)
def test_unsupported_sentence_transformers_pooling(tmp_path: Path, modes: dict[str, bool]) -> None:
    with pytest.raises(ConfigError, match="must enable exactly one of"):
        model_facts.detect_pooling({}, write_pooling(tmp_path, **modes), where="n")


def test_unknown_recorded_pooling() -> None:
    with pytest.raises(ConfigError, match="'MAX' is not one of CLS, MEAN, LAST"):
        model_facts.detect_pooling({"ovserve_pooling": "MAX"}, None, where="n")


def test_int_fact_and_hf_config(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"pad_token_id": 1, "vocab_size": 250002}')
    config = model_facts.hf_config(tmp_path)
    assert model_facts.int_fact("pad_token_id", {}, config) == 1
    assert model_facts.int_fact("vocab_size", {"vocab_size": "30522"}, config) == 30522
    assert model_facts.int_fact("type_vocab_size", {}, config) is None
    assert model_facts.hf_config(tmp_path / "absent") == {}
