"""The `ovserve` command: OVMS-compatible server flags, plus the `export` sub-command.

`ovserve [server flags]` starts the server; `ovserve export embeddings …` builds a workspace.
Flag names, defaults and cross-checks follow OpenVINO Model Server's (its docs: parameters.md).
Usage errors exit with 2 (argparse's convention), an invalid workspace at start-up with 1; neither prints
a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ovserve import __version__
from ovserve.config import CorsSettings, ServerConfig
from ovserve.names import parse_alias_flags
from ovserve.security.flags import add_limit_flags, limits_from_args, tls_from_args

# Defaults of the settings that have one in ServerConfig, so they are written once.
_DEFAULTS = ServerConfig()
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")
EXAMPLES = """examples:
  ovserve --config_path models/config.json --rest_port 8000 --port 9000
      serve a workspace (REST :8000, gRPC :9000), as OVMS does
  ovserve --model_name minilm --model_path models/minilm --rest_port 8000
      serve one model or graph directory without a config.json
  ovserve --source_model ./all-MiniLM-L6-v2 --rest_port 8000
      export a local Hugging Face folder on first start, then serve it as all-MiniLM-L6-v2
  ovserve --config_path models/config.json --rest_port 8000 \\
      --model_alias text-embedding-3-small=sentence-transformers/all-MiniLM-L6-v2
      let OpenAI-style clients call the graph by another name
  ovserve export embeddings --source_model <hf folder> --model_name my/model
      build a workspace from a Hugging Face folder
  ovserve bench --api_url http://localhost:8000/v3/embeddings --model my/model
      load-test it
"""


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be in 0..65535, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The server's argument parser; every OVMS flag ovserve knows, even where it is a no-op yet."""
    p = argparse.ArgumentParser(
        prog="ovserve",
        description="Serve OpenVINO Model Server workspaces (graph.pbtxt + subconfig.json) over "
        "REST (OpenAI, KServe v2) and gRPC (KServe v2). `ovserve export embeddings --help` "
        "builds a workspace from a Hugging Face model folder; `ovserve bench --help` load-tests "
        "an embeddings endpoint.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"ovserve {__version__}")
    net = p.add_argument_group("network")
    net.add_argument("--port", type=_port, default=0, help="gRPC port; 0 (default) disables gRPC")
    net.add_argument("--rest_port", type=_port, default=0, help="REST port; 0 (default) disables REST")
    net.add_argument("--grpc_bind_address", default="0.0.0.0", help="gRPC bind address")
    net.add_argument("--rest_bind_address", default="0.0.0.0", help="REST bind address")
    net.add_argument("--grpc_workers", type=int, default=1, help="gRPC server workers (1..CPU cores)")
    net.add_argument("--rest_workers", type=int, default=None, help="REST workers (2..10000)")
    models = p.add_argument_group("servables")
    models.add_argument("--config_path", type=Path, help="config.json (or .yaml) of a workspace")
    models.add_argument("--model_name", help="single-model mode: served name")
    models.add_argument(
        "--model_path",
        type=Path,
        help="single-model mode: model or graph directory, or a Hugging Face folder (exported once)",
    )
    models.add_argument(
        "--source_model",
        type=Path,
        help=(
            "single-model mode, as OVMS 2025 names it: a local Hugging Face or sentence-transformers"
            " folder, exported on first start (ovserve never downloads: no hub id); --model_name"
            " defaults to the folder's name; cannot be combined with --model_path"
        ),
    )
    models.add_argument("--target_device", default="CPU", help="single-model mode: device")
    models.add_argument(
        "--plugin_config", default=None, help='single-model mode: JSON, e.g. {"NUM_STREAMS": "1"}'
    )
    models.add_argument(
        "--file_system_poll_wait_seconds",
        type=_non_negative,
        default=1,
        help="seconds between workspace change checks; 0 disables watching",
    )
    models.add_argument(
        "--cache_dir",
        type=Path,
        help="OpenVINO compiled-model cache directory; also holds first-start exports (ovserve-exports/)",
    )
    models.add_argument(
        "--calculator_module",
        action="append",
        default=[],
        help="Python module (dotted name or .py path) with user calculators; repeatable",
    )
    models.add_argument(
        "--model_alias",
        action="append",
        default=[],
        metavar="ALIAS=NAME",
        help="another name clients may use for a served graph or model on the OpenAI and TEI routes, "
        "e.g. text-embedding-3-small=sentence-transformers/all-MiniLM-L6-v2; repeatable "
        "(also read from aliases.json beside --config_path; these win)",
    )
    perf = p.add_argument_group("performance (ovserve)")
    perf.add_argument(
        "--graph_threads",
        type=_non_negative,
        default=_DEFAULTS.graph_threads,
        help="threads that run graphs; 0 = 8/core, >= 64",
    )
    perf.add_argument(
        "--batching",
        action=argparse.BooleanOptionalAction,
        default=_DEFAULTS.batching,
        help="merge concurrent embeddings requests per model (a graph's batching options override)",
    )
    perf.add_argument(
        "--max_batch_size",
        type=_non_negative,
        default=_DEFAULTS.max_batch_size,
        help="most texts in one inference",
    )
    perf.add_argument(
        "--max_batch_tokens",
        type=_non_negative,
        default=_DEFAULTS.max_batch_tokens,
        help="most padded tokens (texts x longest text) in one merged inference",
    )
    perf.add_argument(
        "--pad_to_multiple_of",
        type=_non_negative,
        default=_DEFAULTS.pad_to_multiple_of,
        help="pad each batch's length to buckets of this step (finer when short): fewer shapes, "
        "bounded memory; 0 = off",
    )
    perf.add_argument(
        "--embedding_cache_mib",
        type=_non_negative,
        default=_DEFAULTS.embedding_cache_mib,
        help="MiB of vectors each embeddings graph keeps, so repeated documents skip inference; 0 = off",
    )
    obs = p.add_argument_group("logging and metrics")
    obs.add_argument(
        "--log_level",
        default="INFO",
        type=str.upper,
        choices=LOG_LEVELS,
        help="least severe messages logged (default: INFO; case-insensitive)",
    )
    obs.add_argument("--log_path", type=Path, help="also write the log to this file")
    obs.add_argument(
        "--metrics_enable", action="store_true", help="serve Prometheus metrics on GET /metrics (REST port)"
    )
    obs.add_argument(
        "--metrics_list",
        default="",
        help="comma-separated metric families to export (default: all but ovms_infer_req_queue_size and "
        "ovms_infer_req_active); an unknown name stops start-up",
    )
    sec = p.add_argument_group("security")
    sec.add_argument(
        "--api_key_file",
        type=Path,
        help="file whose first line is the API key (else env API_KEY); when set, every REST route and "
        "gRPC method except /v2/health/* and ServerLive/ServerReady needs 'Authorization: Bearer <key>'",
    )
    sec.add_argument("--allowed_origins", default="*", help="CORS Access-Control-Allow-Origin")
    sec.add_argument("--allowed_methods", default="*", help="CORS Access-Control-Allow-Methods")
    sec.add_argument("--allowed_headers", default="*", help="CORS Access-Control-Allow-Headers")
    sec.add_argument("--allow_credentials", action="store_true", help="CORS Access-Control-Allow-Credentials")
    sec.add_argument("--ssl_certfile", type=Path, help="PEM server certificate: TLS on REST and gRPC")
    sec.add_argument("--ssl_keyfile", type=Path, help="PEM private key of --ssl_certfile")
    sec.add_argument(
        "--ssl_ca_certfile",
        type=Path,
        help="PEM CA of client certificates: mutual TLS (clients must present one)",
    )
    add_limit_flags(p)
    return p


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ServerConfig:
    """Cross-check the flags as OVMS does and build the immutable `ServerConfig`."""
    if args.port == 0 and args.rest_port == 0:
        parser.error("at least one of --port and --rest_port must be set to a non-zero port")
    if args.port == args.rest_port:
        parser.error(f"--port and --rest_port must differ (both are {args.port})")
    if args.source_model is not None:
        if args.model_path is not None:
            parser.error("give --source_model or --model_path, not both")
        if not args.source_model.is_dir():
            parser.error(
                f"--source_model {args.source_model}: no such folder (ovserve exports local folders"
                " only; download the model first, e.g. with `hf download`)"
            )
        args.model_path = args.source_model
        if args.model_name is None:
            args.model_name = args.source_model.resolve().name
    single = args.model_name is not None or args.model_path is not None
    if args.config_path is not None and single:
        parser.error("--config_path cannot be combined with --model_name/--model_path")
    if single and (args.model_name is None or args.model_path is None):
        parser.error("single-model mode needs both --model_name and --model_path")
    if args.config_path is None and not single:
        parser.error("give --config_path, or --model_name with --model_path")
    if not single and (args.plugin_config is not None or args.target_device != "CPU"):
        parser.error("--plugin_config and --target_device apply only to single-model mode")
    cores = os.cpu_count() or 1
    if not 1 <= args.grpc_workers <= cores:
        parser.error(f"--grpc_workers must be in 1..{cores} (CPU cores), got {args.grpc_workers}")
    if args.rest_workers is not None:
        if args.rest_port == 0:
            parser.error("--rest_workers needs --rest_port")
        if not 2 <= args.rest_workers <= 10000:
            parser.error(f"--rest_workers must be in 2..10000, got {args.rest_workers}")
    if args.metrics_enable and args.rest_port == 0:
        parser.error("Missing rest_port parameter in server CLI: --metrics_enable needs --rest_port")
    metrics_list = tuple(m.strip() for m in args.metrics_list.split(",") if m.strip())
    if metrics_list and not args.metrics_enable:
        parser.error("--metrics_list needs --metrics_enable")
    if args.max_batch_size < 1 or args.max_batch_tokens < 1:
        parser.error("--max_batch_size and --max_batch_tokens must be >= 1")
    return ServerConfig(
        grpc_port=args.port or None,
        rest_port=args.rest_port or None,
        grpc_bind_address=args.grpc_bind_address,
        rest_bind_address=args.rest_bind_address,
        grpc_workers=args.grpc_workers,
        rest_workers=args.rest_workers,
        config_path=args.config_path,
        model_name=args.model_name,
        model_path=args.model_path,
        target_device=args.target_device,
        plugin_config=_plugin_config(args.plugin_config, parser),
        file_system_poll_wait_seconds=args.file_system_poll_wait_seconds,
        log_level=args.log_level,
        log_path=args.log_path,
        cache_dir=args.cache_dir,
        metrics_enable=args.metrics_enable,
        metrics_list=metrics_list,
        api_key=_api_key(args.api_key_file, parser),
        cors=CorsSettings(
            allowed_origins=args.allowed_origins,
            allowed_methods=args.allowed_methods,
            allowed_headers=args.allowed_headers,
            allow_credentials=args.allow_credentials,
        ),
        calculator_modules=tuple(args.calculator_module),
        model_aliases=_aliases(args.model_alias, parser),
        graph_threads=args.graph_threads,
        batching=args.batching,
        max_batch_size=args.max_batch_size,
        max_batch_tokens=args.max_batch_tokens,
        pad_to_multiple_of=args.pad_to_multiple_of,
        embedding_cache_mib=args.embedding_cache_mib,
        limits=limits_from_args(args, parser),
        tls=tls_from_args(args, parser),
        shutdown_timeout_seconds=args.shutdown_timeout,
        access_log=args.access_log,
    )


def _aliases(values: list[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    try:
        return parse_alias_flags(values)
    except ValueError as exc:
        parser.error(f"--model_alias: {exc}")


def _plugin_config(text: str | None, parser: argparse.ArgumentParser) -> dict[str, str]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        parser.error(f"--plugin_config is not valid JSON: {exc}")
    if not isinstance(value, dict) or not all(
        isinstance(v, str | int | float | bool) for v in value.values()
    ):
        parser.error('--plugin_config must be a JSON object of scalars, e.g. {"NUM_STREAMS": "1"}')
    return {str(k): str(v) for k, v in value.items()}


def _api_key(path: Path | None, parser: argparse.ArgumentParser) -> str | None:
    """First line of `--api_key_file`, else env `API_KEY`; empty means no authentication (OVMS)."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            parser.error(f"--api_key_file {path}: {exc.strerror}")
        key = lines[0].strip() if lines else ""
    else:
        key = os.environ.get("API_KEY", "").strip()
    return key or None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ovserve` console script and `python -m ovserve`."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "export":
        from ovserve.export.cli import main as export_main

        return export_main(args_list[1:])
    if args_list and args_list[0] == "bench":
        from ovserve.bench.cli import main as bench_main

        return bench_main(args_list[1:])
    parser = build_parser()
    config = config_from_args(parser.parse_args(args_list), parser)
    from ovserve.server import run_server

    return run_server(config)
