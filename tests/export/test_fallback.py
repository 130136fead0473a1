"""The export path for architectures optimum-intel refuses (`ovserve.export.fallback`).

A model the fallback exports is served and checked like every zoo model (`tests/zoo`,
ModernBERT); here, what happens when the fallback cannot export it either.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ovserve.export import fallback
from ovserve.export.cli import main

pytestmark = pytest.mark.slow  # imports the export stack (torch, transformers, optimum)


def test_an_architecture_nothing_can_export_fails_in_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A ModernBERT config without weights: optimum-intel refuses the architecture, and the
    # fallback cannot load the model.
    source = tmp_path / "src"
    source.mkdir()
    config = {
        "model_type": "modernbert",
        "architectures": ["ModernBertModel"],
        "max_position_embeddings": 512,
    }
    (source / "config.json").write_text(json.dumps(config))
    code = main(
        [
            "embeddings",
            "--source_model",
            str(source),
            "--model_repository_path",
            str(tmp_path / "ws"),
            "--weight-format",
            "fp32",
            "--model_name",
            "org/modernbert",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert "cannot export a 'modernbert' model: optimum-intel has no export config for it" in err
    assert "bert" in fallback.supported_model_types()
    assert "optimum-intel exports: " in err
    assert not (tmp_path / "ws" / "config.json").exists()
