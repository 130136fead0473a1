"""`ovserve bench`: load-test an OpenAI-compatible embeddings URL, a Cohere rerank URL, or
KServe v2 over gRPC.

Options follow OVMS's `demos/benchmark/embeddings/benchmark_embeddings.py` (`--api_url`,
`--dataset`, `--synthetic_length`, `--request_rate`, `--batch_size`, `--limit`, `--model`),
plus `--concurrency`, `--encoding_format`, `--grpc_url`, `--warmup`, `--query` and `--json`.
An `--api_url` ending in `/rerank` (OVMS's `--backend ovms_rerank`) sends Cohere rerank bodies:
each request ranks `--batch_size` documents against `--query`. Results go
to stdout, progress to stderr. Exit codes: 0 when every request succeeded, 1 when some
failed, 2 for usage errors (argparse's convention).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path

from ovserve.bench.dataset import batches, synthetic_documents, text_file_documents, with_repeats
from ovserve.bench.load import LoadConfig, run_load
from ovserve.bench.progress import Progress
from ovserve.bench.report import format_summary, summarize, write_json


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0 or inf, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The `ovserve bench` argument parser."""
    p = argparse.ArgumentParser(
        prog="ovserve bench",
        description=(
            "Send embeddings requests (or rerank requests, when --api_url ends in /rerank) and "
            "report throughput and latency."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--api_url",
        default="http://localhost:8000/v3/embeddings",
        help="OpenAI embeddings URL, or a Cohere rerank URL (…/v3/rerank: --batch_size documents per query)",
    )
    p.add_argument(
        "--grpc_url",
        default=None,
        help="host:port of a KServe v2 gRPC server (gRPC mode; BYTES input 'input')",
    )
    p.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2", help="model/graph name")
    p.add_argument(
        "--dataset",
        default="synthetic",
        help="'synthetic' or the path of a UTF-8 text file with one document per line",
    )
    p.add_argument(
        "--synthetic_length", type=_positive_int, default=5, help="tokens per synthetic document (BERT count)"
    )
    p.add_argument("--limit", type=_positive_int, default=1000, help="documents to send")
    p.add_argument("--batch_size", type=_positive_int, default=1, help="documents per request")
    p.add_argument(
        "--request_rate",
        type=_rate,
        default=math.inf,
        help="requests per second, Poisson arrivals; inf = no pacing",
    )
    p.add_argument("--concurrency", type=_positive_int, default=64, help="most requests in flight")
    p.add_argument(
        "--encoding_format",
        choices=("float", "base64"),
        default="float",
        help="OpenAI encoding_format the requests ask for (default: float)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        help="stop sending after this many seconds (default: send all)",
    )
    p.add_argument("--warmup", type=int, default=0, help="requests sent and discarded before timing")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per request before it fails")
    p.add_argument("--seed", type=int, default=0, help="seed of synthetic texts and arrival times")
    p.add_argument(
        "--repeat_ratio",
        type=float,
        default=0.0,
        help="share of documents that repeat an earlier one, 0..1 (to measure --embedding_cache_mib)",
    )
    p.add_argument("--query", default=LoadConfig.query, help="query of rerank requests")
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    p.add_argument("--no_progress", action="store_true", help="do not show the progress bar")
    return p


def main(argv: list[str]) -> int:
    """Run `ovserve bench` with `argv` (without the `bench` word); returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.dataset == "synthetic":
        documents = synthetic_documents(args.limit, args.synthetic_length, seed=args.seed)
    else:
        try:
            documents = text_file_documents(Path(args.dataset), args.limit)
        except (OSError, ValueError) as exc:
            print(f"ovserve bench: {exc}", file=sys.stderr)
            return 2
    try:
        documents = with_repeats(documents, args.repeat_ratio, seed=args.seed)
    except ValueError as exc:
        print(f"ovserve bench: --repeat_ratio: {exc}", file=sys.stderr)
        return 2
    groups = batches(documents, args.batch_size)
    config = LoadConfig(
        api_url=args.api_url,
        grpc_url=args.grpc_url,
        model=args.model,
        concurrency=args.concurrency,
        request_rate=args.request_rate,
        encoding_format=args.encoding_format,
        timeout=args.timeout,
        warmup=args.warmup,
        seed=args.seed,
        duration=args.duration,
        query=args.query,
    )
    target = f"gRPC {args.grpc_url}" if args.grpc_url else args.api_url
    print(f"Benchmarking {target}: {len(documents)} documents in {len(groups)} requests", file=sys.stderr)
    progress = Progress(len(groups), enabled=not args.no_progress)
    result = asyncio.run(run_load(groups, config, progress=progress))
    summary = summarize(result)
    print(format_summary(summary))
    if args.json is not None:
        settings = {
            key: ("inf" if isinstance(value, float) and math.isinf(value) else value)
            for key, value in vars(args).items()
        }
        settings["json"] = str(args.json)
        write_json(args.json, summary, settings)
    return 0 if summary.failed == 0 else 1
