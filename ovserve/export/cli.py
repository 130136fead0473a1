"""`ovserve export embeddings|rerank|rerank_ov ...`: the OVMS `export_model.py` flags, plus a few.

`rerank` writes OVMS's versioned rerank tree and `rerank_ov` its flat `RerankCalculatorOV`
directory (`--layout` switches either), with `--max_doc_length` as in OVMS (see
`ovserve.export.rerank`).

Flags beyond OVMS: `--pooling`, `--max_length`, `--layout`, `--execution_precision`.
Different defaults from OVMS, on purpose: `--config_file_path` defaults to
`<model_repository_path>/config.json` (OVMS: `./config.json`), and a missing
`--model_repository_path` is created (OVMS refuses).

Exit codes: 0 done; 2 refused (bad flag, bad source, existing target, unwritable path, bad
config file), one line on stderr, nothing written; 1 failed during the export (one line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from ovserve.errors import ConfigError, OvserveError
from ovserve.export.embeddings import export_embeddings
from ovserve.export.options import EXECUTION_PRECISIONS, LAYOUTS, POOLINGS, WEIGHT_FORMATS, ExportOptions
from ovserve.export.rerank import DEFAULT_MAX_DOC_LENGTH, export_rerank

PROG = "ovserve export"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print the whole usage block; one line is easier to act on.
        raise _UsageError(f"{self.prog}: {message} (see --help)")


def main(argv: list[str]) -> int:
    """Run `ovserve export <argv...>`; return the process exit code (never raises for user errors)."""
    try:
        args = _build_parser().parse_args(argv)
        options = _options_from(args)
        progress = lambda line: print(line, flush=True)  # noqa: E731
        if args.task == "embeddings":
            result = export_embeddings(options, progress=progress)
        else:
            result = export_rerank(options, max_doc_length=args.max_doc_length, progress=progress)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"{PROG}: refused: {exc}", file=sys.stderr)
        return 2
    except (OvserveError, OSError) as exc:
        print(f"{PROG}: failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    print(
        f"exported {result.graph_name!r} ({result.layout} layout, version {result.version}, "
        f"{result.weight_format}) into {result.graph_dir}; {result.config_file} updated "
        f"in {result.seconds:.1f}s",
        flush=True,
    )
    return 0


def _options_from(args: argparse.Namespace) -> ExportOptions:
    return ExportOptions(
        source_model=Path(args.source_model),
        model_name=args.model_name if args.model_name is not None else args.source_model,
        model_repository_path=Path(args.model_repository_path),
        weight_format=args.weight_format,
        config_file_path=Path(args.config_file_path) if args.config_file_path else None,
        overwrite_models=args.overwrite_models,
        target_device=args.target_device,
        num_streams=args.num_streams,
        normalize=not getattr(args, "skip_normalize", False),
        truncate=getattr(args, "truncate", False),
        version=args.version,
        extra_quantization_params=args.extra_quantization_params,
        pooling=getattr(args, "pooling", None),
        max_length=args.max_length,
        layout=args.layout,
        execution_precision=args.execution_precision,
    )


def _build_parser() -> _Parser:
    parser = _Parser(prog=PROG, description="Export a model into an OVMS-compatible workspace.")
    tasks = parser.add_subparsers(dest="task", required=True, parser_class=_Parser)
    sub = tasks.add_parser(
        "embeddings",
        help="a local Hugging Face text-embeddings model folder",
        description="Export a local Hugging Face embeddings model as an OVMS embeddings graph.",
    )
    _common_arguments(sub, model="embeddings")
    sub.add_argument("--skip_normalize", action="store_true", help="no L2 normalisation of embeddings")
    sub.add_argument(
        "--truncate", action="store_true", help="cut long inputs at --max_length instead of rejecting them"
    )
    sub.add_argument(
        "--pooling", type=str.upper, choices=POOLINGS, help="default: 1_Pooling/config.json, else CLS"
    )
    sub.add_argument(
        "--max_length",
        type=int,
        help="longest accepted input in tokens (default: max_seq_length, else max_position_embeddings)",
    )
    sub.add_argument(
        "--layout", default="versioned", choices=LAYOUTS, help="versioned (OVMS embeddings) or flat"
    )
    for task, layout in (("rerank", "versioned"), ("rerank_ov", "flat")):
        sub = tasks.add_parser(
            task,
            help=f"a local Hugging Face cross-encoder folder ({layout} layout)",
            description="Export a local Hugging Face cross-encoder as an OVMS rerank graph.",
        )
        _common_arguments(sub, model="rerank")
        sub.add_argument(
            "--max_doc_length",
            type=int,
            default=DEFAULT_MAX_DOC_LENGTH,
            help=f"the tokenizer's cut, in tokens (default {DEFAULT_MAX_DOC_LENGTH}, as OVMS)",
        )
        sub.add_argument(
            "--max_length",
            type=int,
            help="longest (query, document) pair in tokens (default: the tokenizer's model_max_length)",
        )
        sub.add_argument("--layout", default=layout, choices=LAYOUTS, help=f"default {layout}")
    return parser


def _common_arguments(sub: argparse.ArgumentParser, *, model: str) -> None:
    sub.add_argument("--source_model", required=True, help="local HF model folder (with config.json)")
    sub.add_argument("--model_name", help="served name, may contain '/' (default: --source_model)")
    sub.add_argument("--model_repository_path", default="models", help="created if missing (default: models)")
    sub.add_argument(
        "--weight-format",
        "--precision",
        dest="weight_format",
        default="int8",
        choices=WEIGHT_FORMATS,
        help="weights of the exported model (default: int8; fp32 for exact results)",
    )
    sub.add_argument(
        "--config_file_path", help="config.json or config.yaml to update (default: <repository>/config.json)"
    )
    sub.add_argument("--overwrite_models", action="store_true", help="replace an existing target")
    sub.add_argument(
        "--target_device", default="CPU", help="device written into the graph's models (default: CPU)"
    )
    sub.add_argument("--num_streams", type=int, default=1, help=f"NUM_STREAMS of the {model} model")
    sub.add_argument("--version", type=int, default=1, help="version directory to write (default 1)")
    sub.add_argument(
        "--extra_quantization_params",
        default="",
        help="optimum-cli style: --sym, --group-size N, --ratio R, --all-layers, --backup-precision P",
    )
    sub.add_argument("--ov_cache_dir", help="accepted for OVMS compatibility; not used")
    sub.add_argument(
        "--execution_precision",
        default="auto",
        choices=EXECUTION_PRECISIONS,
        help=(
            "INFERENCE_PRECISION_HINT for the model; auto = f32 for fp32 weights, else the plugin "
            "default; f32 on int8/int4 weights also turns off dynamic quantization of activations"
        ),
    )
