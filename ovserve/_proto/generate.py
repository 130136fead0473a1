"""Compile every `.proto` under `proto/` into this package (`make proto`).

Usage: `python -m ovserve._proto.generate [--out DIR]`.

protoc (from grpcio-tools, a dev dependency) writes `*_pb2.py` and `*_pb2.pyi` (and
`*_pb2_grpc.py` service stubs for protos with a `service`) whose imports
name the proto folders as top-level packages (`from mediapipe.framework import ...`). Those
imports are rewritten to `ovserve._proto.<folder>` so the code is importable as part of
ovserve, and an `__init__.py` is written into every generated folder. Output is
deterministic, which lets `tests/graph/test_proto_generated.py` regenerate into a temporary
directory and compare byte for byte. Runtime code never imports this module (it pulls in
`grpc_tools`).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PACKAGE = "ovserve._proto"
REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO_ROOT / "proto"
DEFAULT_OUT = Path(__file__).resolve().parent
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
INIT_TEXT = '"""Generated protobuf package (do not edit); regenerate with `make proto`."""\n'


def proto_files(proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Every `.proto` below `proto_root`, sorted, relative to it."""
    return sorted(p.relative_to(proto_root) for p in proto_root.rglob("*.proto"))


def _rewrite_imports(text: str, top_packages: set[str]) -> str:
    # Only the first dotted component is checked, so `google.protobuf` imports (the
    # runtime's own well-known types) stay untouched.
    def fix(match: re.Match[str]) -> str:
        keyword, module = match.group(1), match.group(2)
        if module.split(".")[0] in top_packages:
            return f"{keyword} {PACKAGE}.{module}"
        return match.group(0)

    text = re.sub(r"^(\s*from|\s*import) ([A-Za-z_][\w.]*)", fix, text, flags=re.MULTILINE)
    # The module name protobuf records as `__module__` of the generated classes.
    return re.sub(
        r"(BuildTopDescriptorsAndMessages\(DESCRIPTOR, ')([\w.]+)'",
        lambda m: (
            f"{m.group(1)}{PACKAGE}.{m.group(2)}'" if m.group(2).split(".")[0] in top_packages else m.group(0)
        ),
        text,
    )


def _defines_service(path: Path) -> bool:
    return re.search(r"^\s*service\s+\w+", path.read_text(), flags=re.MULTILINE) is not None


def _run_protoc(proto_root: Path, out_dir: Path, files: Sequence[Path]) -> None:
    # Imported here: grpc_tools is a dev-only dependency.
    import grpc_tools
    from grpc_tools import protoc

    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    includes = [f"-I{proto_root}", f"-I{well_known}"]
    runs = [[f"--python_out={out_dir}", f"--pyi_out={out_dir}", *(str(f) for f in files)]]
    # Service stubs only for protos that declare a service: protoc would otherwise write an
    # empty `_pb2_grpc.py` beside every message-only proto.
    services = [str(f) for f in files if _defines_service(proto_root / f)]
    if services:
        runs.append([f"--grpc_python_out={out_dir}", *services])
    for run in runs:
        if protoc.main(["grpc_tools.protoc", *includes, *run]) != 0:
            raise SystemExit(f"protoc failed for {len(files)} files under {proto_root}")


def generate(out_dir: Path = DEFAULT_OUT, proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Regenerate the code for every proto into `out_dir`; return the files written.

    Stale generated files (of deleted protos) are removed; hand-written files in `out_dir`
    (`__init__.py` at the top, this script) are left alone.
    """
    files = proto_files(proto_root)
    tops = {f.parts[0] for f in files}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        _run_protoc(proto_root, tmp_dir, files)
        produced = sorted(p.relative_to(tmp_dir) for p in tmp_dir.rglob("*") if p.is_file())
        for stale in sorted(out_dir.rglob("*")):
            generated = stale.is_file() and stale.name.endswith(GENERATED_SUFFIXES)
            if generated and stale.relative_to(out_dir) not in produced:
                stale.unlink()
        written: list[Path] = []
        for rel in produced:
            target = out_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_rewrite_imports((tmp_dir / rel).read_text(), tops))
            written.append(target)
    for rel in produced:
        for folder in rel.parents:
            if folder != Path("."):
                init = out_dir / folder / "__init__.py"
                if not init.exists():
                    init.write_text(INIT_TEXT)
                    written.append(init)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output package directory")
    args = parser.parse_args(argv)
    written = generate(args.out)
    print(f"generated {len(written)} files into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
