"""The committed generated protobuf code matches what `make proto` produces now."""

from __future__ import annotations

import filecmp
from pathlib import Path

from ovserve._proto import generate


def _tree(root: Path) -> dict[Path, Path]:
    return {
        p.relative_to(root): p
        for p in root.rglob("*")
        if p.is_file() and (p.name.endswith(generate.GENERATED_SUFFIXES) or p.name == "__init__.py")
    }


def test_committed_generated_code_is_up_to_date(tmp_path: Path) -> None:
    generate.generate(out_dir=tmp_path)
    fresh, committed = _tree(tmp_path), _tree(generate.DEFAULT_OUT)
    committed.pop(Path("__init__.py"))  # the hand-written package docstring
    stale = sorted(
        str(rel) for rel in fresh.keys() & committed.keys() if not filecmp.cmp(fresh[rel], committed[rel])
    )
    assert sorted(map(str, fresh.keys() - committed.keys())) == [], "missing: run `make proto`"
    assert sorted(map(str, committed.keys() - fresh.keys())) == [], "obsolete: run `make proto`"
    assert stale == [], "stale: run `make proto`"


def test_every_proto_has_a_module() -> None:
    for proto in generate.proto_files():
        module = generate.DEFAULT_OUT / proto.with_name(proto.stem + "_pb2.py")
        assert module.is_file(), f"{proto} has no generated module; run `make proto`"
