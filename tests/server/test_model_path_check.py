"""`--model_path` that OVMS could not serve stops start-up with exit 1 and says what is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def serve(model_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ovserve",
            "--rest_port",
            "0",
            "--port",
            "1",
            "--model_name",
            "m",
            "--model_path",
            str(model_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_empty_folder_or_a_file_is_refused(tmp_path: Path) -> None:
    empty = serve(tmp_path)
    assert empty.returncode == 1
    assert "nothing to serve" in empty.stderr
    (tmp_path / "model.xml").write_text("")
    not_dir = serve(tmp_path / "model.xml")
    assert not_dir.returncode == 1
    assert "not a directory" in not_dir.stderr
