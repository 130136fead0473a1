"""Compare ovserve with raw OpenVINO and a one-inference-per-request server, in one run.

    .venv/bin/python benchmarks/compare.py [--quick] [--weight-format fp32] [--execution_precision default]

Same model files, same inputs, same precision properties for every row:

* raw: `raw_model.RawEmbedder` in this process, best of LATENCY (sync) and THROUGHPUT (one
  thread per optimal infer request) for each workload; and once more with the workspace's
  own `plugin_config` (the servers' streams and threads), so that a server's CPU beyond the
  model splits into what its path costs and what the configured streams cost;
* baseline: `baseline_server.py` (OVMS's way: one inference per request), in a subprocess;
* ovserve REST and gRPC: `python -m ovserve` in a subprocess on a temporary copy of the
  workspace.

Every server row is measured by the same in-process client (`ovserve.bench.run_load`). The
workloads and targets are those of issue 8; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # `tests.support` and `ovserve` when run from any directory

import openvino as ov  # noqa: E402
from m1_memory import run_m1  # noqa: E402
from machine import cpu_line, grpc_unavailable, load_average  # noqa: E402
from processes import ServerProcess, baseline_server, cpu_seconds, ovserve_server  # noqa: E402
from raw_model import RawEmbedder, graph_files, precision_properties  # noqa: E402
from raw_runs import RawFigure, best_latency, best_throughput  # noqa: E402
from rerank_bench import R1Result, measure_r1  # noqa: E402
from table import Row, render  # noqa: E402
from workloads import WORKLOADS, Workload, score, served_workspace, server_row, verdicts  # noqa: E402

from ovserve.bench import LoadConfig, Summary, run_load, summarize, synthetic_documents  # noqa: E402
from ovserve.export.options import EXECUTION_PRECISIONS  # noqa: E402
from tests.support.models import copy_workspace, graph_dir  # noqa: E402

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
ROUNDS = 3


def request_count(workload: Workload, raw: RawFigure, seconds: float) -> int:
    """Enough requests to last `seconds` at raw speed with headroom (the run stops at `seconds`)."""
    per_second = raw.texts_per_second / workload.texts
    return max(3 * workload.clients, min(60_000, math.ceil(per_second * seconds * 2)))


def request_groups(workload: Workload, texts: list[str], count: int) -> list[list[str]]:
    """`count` requests of `workload.texts` texts each, cycling through `texts`."""
    return [
        [texts[(i * workload.texts + j) % len(texts)] for j in range(workload.texts)] for i in range(count)
    ]


async def warm_up(workload: Workload, groups: list[list[str]], config: LoadConfig) -> None:
    """One round to compile the shapes and open the connections; big batches need just one."""
    warm = LoadConfig(**{**asdict(config), "concurrency": workload.clients})
    await run_load(groups[: workload.clients if workload.texts == 1 else 1], warm)


async def server_round(
    workload: Workload, groups: list[list[str]], config: LoadConfig, seconds: float, pid: int
) -> tuple[Summary, float]:
    """One timed round; returns its summary and the server process's CPU seconds during it."""
    run = LoadConfig(**{**asdict(config), "concurrency": workload.clients, "duration": seconds})
    before = cpu_seconds(pid) or 0.0
    summary = summarize(await run_load(groups, run))
    return summary, (cpu_seconds(pid) or before) - before


CONFIGURED = "plugin_config"
"""The raw configuration the servers run: the workspace's own `plugin_config`, whole."""


def make_embedders(config_path: Path) -> tuple[dict[str, RawEmbedder], RawEmbedder, str]:
    """The raw configurations to try (with the workspace's precision properties), the one the
    servers run, and a note on the precision in effect."""
    files = graph_files(graph_dir(config_path))
    precision = precision_properties(files.plugin_config)
    core = ov.Core()
    embedders = {
        hint: RawEmbedder(files, {**precision, "PERFORMANCE_HINT": hint}, core)
        for hint in ("LATENCY", "THROUGHPUT")
    }
    configured = RawEmbedder(files, dict(files.plugin_config), core)
    used = embedders["LATENCY"].precision
    note = f"INFERENCE_PRECISION_HINT in effect: {used} (plugin_config: {files.plugin_config})"
    return embedders, configured, note


def check_lengths(embedders: dict[str, RawEmbedder], w: Workload, sample: list[str]) -> None:
    """Warn when the texts miss the workload's token length."""
    lengths = sorted(set(embedders["LATENCY"].tokenize(sample)["attention_mask"].sum(axis=1).tolist()))
    if lengths != [w.tokens]:
        print(f"  warning: {w.name} texts have {lengths} tokens, not {w.tokens}", file=sys.stderr)


def raw_round(embedders: dict[str, RawEmbedder], w: Workload, sample: list[str], seconds: float) -> RawFigure:
    """One raw round of workload `w`: every configuration once, the best kept."""
    if w.latency:
        return best_latency(embedders, sample, seconds, rounds=1)
    return best_throughput(embedders, sample, seconds, rounds=1)


def better_raw(w: Workload, a: RawFigure | None, b: RawFigure) -> RawFigure:
    if a is None:
        return b
    if w.latency:
        return a if a.p50_ms <= b.p50_ms else b
    return a if a.tokens_per_second >= b.tokens_per_second else b


def r1_rows(r1: R1Result) -> list[Row]:
    """The rerank workload's rows: raw (the bound) and ovserve REST `/v3/rerank`."""
    label = f"R1 1 query x 32 docs ({r1.pair_tokens}-token pairs)"
    raw = Row(workload=label, system="raw OpenVINO", figure=r1.raw_documents_per_second, unit="docs/s")
    raw.ratio, raw.verdict, raw.cpu_ms, raw.note = 1.0, "reference", r1.raw_cpu_ms, "pre-tokenized pairs"
    served = Row(
        workload=label,
        system="ovserve REST",
        figure=r1.documents_per_second,
        unit="docs/s",
        ratio=r1.ratio,
        target=">= 0.90x raw",
        verdict="pass" if r1.meets else f"short: {r1.ratio:.2f}x",
        cpu_ms=r1.cpu_ms,
        overhead_ms=r1.cpu_ms - r1.raw_cpu_ms,
        note=f"fp32 cross-encoder, {r1.precision}",
    )
    return [raw, served]


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}/v3/embeddings"


async def _start(stack: contextlib.AsyncExitStack, server: ServerProcess) -> str | None:
    """Enter `server` on `stack`; None when it is ready, else why the rows are n/a."""
    try:
        await stack.enter_async_context(server)
    except RuntimeError as exc:
        print(f"  {exc}", file=sys.stderr)
        return f"n/a ({str(exc).splitlines()[0]})"
    return None


async def run_workloads(
    args: argparse.Namespace, config_path: Path, texts: dict[str, list[str]]
) -> tuple[dict[str, dict[str, Row]], dict[str, RawFigure], dict[str, RawFigure], str]:
    """Raw, baseline, ovserve REST and gRPC, workload by workload, in interleaved rounds.

    Both servers are started first and sit idle while another row runs. Each of the
    `ROUNDS` rounds of a workload measures raw, then every server, for a short while, and
    each system keeps its best round: a machine whose speed drifts (seen here: the same
    server 30% slower a few minutes later) then moves every row of a workload alike, where
    measuring one system's rounds back to back moved the ratios instead.

    Returns the server rows, raw's best figure and raw's figure at the workspace's own
    `plugin_config`, by workload, and the precision note.
    """
    seconds, raw_seconds = (3.0, 1.5) if args.quick else (12.0, 5.0)
    logs = Path(args.logs)
    embedders, configured, note = make_embedders(config_path)
    workloads = [w for w in WORKLOADS if w.name in args.workloads]
    rows: dict[str, dict[str, Row]] = {w.name: {} for w in workloads}
    raw: dict[str, RawFigure] = {}
    as_configured: dict[str, RawFigure] = {}
    async with contextlib.AsyncExitStack() as stack:
        baseline, port = baseline_server(graph_dir(config_path), logs / "baseline.log")
        ovserve, rest, grpc_port = ovserve_server(config_path, logs / "ovserve.log", grpc=True)
        baseline_missing = await _start(stack, baseline)
        ovserve_missing = await _start(stack, ovserve)
        grpc_missing = ovserve_missing or grpc_unavailable()
        targets = [
            ("baseline (1 inference/request)", LoadConfig(api_url=_url(port)), baseline_missing),
            ("ovserve REST", LoadConfig(api_url=_url(rest)), ovserve_missing),
            ("ovserve gRPC", LoadConfig(grpc_url=f"127.0.0.1:{grpc_port}"), grpc_missing),
        ]
        pids = {system: (ovserve if system.startswith("ovserve") else baseline) for system, _, _ in targets}
        for w in workloads:
            sample = texts[w.name][: w.raw_batch or w.texts]
            check_lengths(embedders, w, sample)
            print(f"  {w.label}: {ROUNDS} rounds of raw, then each server ...", file=sys.stderr, flush=True)
            best_raw = raw_round(embedders, w, sample, raw_seconds / ROUNDS)
            best_configured = raw_round({CONFIGURED: configured}, w, sample, raw_seconds / ROUNDS)
            groups = request_groups(w, texts[w.name], request_count(w, best_raw, seconds / ROUNDS))
            client = {"model": MODEL, "encoding_format": args.encoding_format}
            configs = {
                system: LoadConfig(**{**asdict(base), **client})
                for system, base, missing in targets
                if not missing
            }
            for config in configs.values():
                await warm_up(w, groups, config)
            best: dict[str, Summary] = {}
            # CPU per request over every round: steadier than the best round's alone.
            cpu = {system: 0.0 for system in configs}
            served = {system: 0 for system in configs}
            for round_index in range(ROUNDS):
                if round_index:
                    best_raw = better_raw(w, best_raw, raw_round(embedders, w, sample, raw_seconds / ROUNDS))
                    again = raw_round({CONFIGURED: configured}, w, sample, raw_seconds / ROUNDS)
                    best_configured = better_raw(w, best_configured, again)
                for system, config in configs.items():
                    summary, used = await server_round(w, groups, config, seconds / ROUNDS, pids[system].pid)
                    cpu[system] += used
                    served[system] += summary.succeeded
                    if system not in best or score(w, summary) > score(w, best[system]):
                        best[system] = summary
            raw[w.name], as_configured[w.name] = best_raw, best_configured
            for system, _, missing in targets:
                if missing:
                    rows[w.name][system] = server_row(w, system, None, missing)
                    continue
                cpu_ms = 1000.0 * cpu[system] / served[system] if served[system] else None
                rows[w.name][system] = server_row(w, system, best[system], cpu_ms=cpu_ms)
    del embedders, configured
    gc.collect()
    return rows, raw, as_configured, note


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="ovserve vs raw OpenVINO vs one-inference-per-request (issue 8)")
    p.add_argument("--quick", action="store_true", help="short runs (under 3 minutes in all)")
    p.add_argument("--weight-format", choices=("int8", "fp32"), default="int8")
    p.add_argument(
        "--execution_precision",
        choices=EXECUTION_PRECISIONS,
        default="auto",
        help="the export's precision setting, which raw, the baseline and ovserve all read from "
        "its plugin_config (auto: f32 for fp32 weights, the plugin default otherwise)",
    )
    p.add_argument(
        "--workloads",
        default="W1,W2,W3,W4",
        help="comma-separated subset of W1-W4 and R1 (rerank, rerank_bench.py) to run (default: W1-W4)",
    )
    p.add_argument("--skip-m1", action="store_true", help="do not run M1 (short targeted runs)")
    p.add_argument("--encoding-format", choices=("float", "base64"), default="float")
    p.add_argument(
        "--m1-requests", type=int, default=None, help="M1 requests (default 10000; 200 with --quick)"
    )
    p.add_argument(
        "--m1-max-seconds",
        type=float,
        default=420.0,
        help="stop M1 early after this long (keeps a full run short)",
    )
    p.add_argument("--logs", default=None, help="directory for server logs (default: a temporary one)")
    p.add_argument("--json", type=Path, default=None, help="also write every row as JSON")
    args = p.parse_args(argv)
    args.workloads = [name.strip().upper() for name in args.workloads.split(",") if name.strip()]
    rerank = "R1" in args.workloads
    args.workloads = [name for name in args.workloads if name != "R1"]
    unknown = set(args.workloads) - {w.name for w in WORKLOADS}
    if unknown:
        p.error(f"unknown workloads: {sorted(unknown)}")
    started = time.perf_counter()
    config = served_workspace(args.weight_format, args.execution_precision)
    with tempfile.TemporaryDirectory(prefix="ovserve-compare-") as tmp:
        args.logs = args.logs or tmp
        Path(args.logs).mkdir(parents=True, exist_ok=True)
        workspace = copy_workspace(config, Path(tmp) / "workspace")
        print(f"CPU: {cpu_line()}\nOpenVINO {ov.get_version()}; model: {graph_dir(config)}", flush=True)
        print(f"every figure is the best of {ROUNDS} rounds; raw tries LATENCY and THROUGHPUT", flush=True)
        print(f"load average before: {load_average()} (other work on the machine makes every figure noisier)")
        texts = {
            w.name: synthetic_documents(max(256, w.raw_batch, w.texts), w.tokens, seed=8) for w in WORKLOADS
        }
        table: list[Row] = []
        precision = ""
        if args.workloads:
            rows, raw, as_configured, precision = asyncio.run(run_workloads(args, workspace, texts))
            print(precision, flush=True)
            table = verdicts(rows, raw, as_configured)
        if rerank:  # its own fp32 cross-encoder export, whatever --weight-format says
            table += r1_rows(asyncio.run(measure_r1("fp32", quick=args.quick)))
        if not args.skip_m1:
            m1_requests = args.m1_requests or (200 if args.quick else 10_000)
            m1 = run_m1(workspace, m1_requests, Path(args.logs), args.encoding_format, args.m1_max_seconds)
            table.append(asyncio.run(m1))
    mode = "quick" if args.quick else "full"
    elapsed = time.perf_counter() - started
    print(
        f"\n{mode} run, {args.weight_format} weights, execution_precision {args.execution_precision}, "
        f"{elapsed:.0f} s; load average {load_average()}"
    )
    print(f"CPU: {cpu_line()}; {precision}\n")
    print(render(table))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in table], indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
