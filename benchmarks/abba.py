"""A/B of two ovserve source trees on one workload, in ABBA order: server CPU per request.

    .venv/bin/python benchmarks/abba.py --a /tmp/tree-before --b . [--workload W2] [--blocks 2]

Both servers run on the same workspace (the int8 export of `compare.py`, or another with
`--weight-format` / `--execution_precision`), each with its tree first on `PYTHONPATH`, and
sit idle while the other is measured. A block is A, B, B, A, each a timed round of
`--seconds` per protocol; the figure is each tree's process CPU time per successful request
over all its rounds (see benchmarks/README.md, "CPU per request and overhead"), with the
texts/s beside it, and the share of it on the server's main thread (the event loop: HTTP or
gRPC front end, middlewares, admission, access log). A lever that only touches the front end
shows there with less noise than in the process total, which also carries the model's
threads. ABBA order cancels a machine speed that drifts one way during the run;
CPU per request moves much less with other load than throughput does, so it is the figure
to judge a lever by on a shared machine. Beside the overall B - A, each block's own ratio
(B's two rounds against A's two) is printed, lowest to highest: their spread is the noise the
difference has to beat (A/A runs on the AVX2 machine spread about ±7%, benchmarks/README.md).

A tree for the code before a change: `git archive HEAD | tar -x -C /tmp/tree-before`. For a
server flag, give both sides the same tree and the flag to one, joined by `=` since the value
starts with a dash: `--a . --b . --b-flags="--pad_to_multiple_of 8"`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from processes import ServerProcess, cpu_seconds, main_thread_cpu_seconds, ovserve_server  # noqa: E402
from workloads import WORKLOADS, request_groups, served_workspace  # noqa: E402

from ovserve.bench import LoadConfig, run_load, summarize  # noqa: E402
from tests.support.models import copy_workspace  # noqa: E402

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def _with_tree(server: ServerProcess, tree: Path) -> ServerProcess:
    server.env = {"PYTHONPATH": str(tree.resolve())}
    server.cwd = tree.resolve()  # `python -m` puts the cwd first on sys.path
    return server


async def measure(args: argparse.Namespace, config_path: Path, logs: Path) -> None:
    w = next(w for w in WORKLOADS if w.name == args.workload)
    groups = request_groups(w)
    protocols = [p for p in args.protocols.split(",") if p]
    async with contextlib.AsyncExitStack() as stack:
        trees = {"A": Path(args.a), "B": Path(args.b)}
        servers: dict[str, tuple[ServerProcess, dict[str, LoadConfig]]] = {}
        flags = {"A": shlex.split(args.a_flags), "B": shlex.split(args.b_flags)}
        for name, tree in trees.items():
            log = logs / f"ovserve-{name}.log"
            server, rest, grpc_port = ovserve_server(config_path, log, grpc=True, flags=flags[name])
            await stack.enter_async_context(_with_tree(server, tree))
            base = {"model": MODEL, "concurrency": w.clients, "encoding_format": args.encoding_format}
            configs = {
                "REST": LoadConfig(api_url=f"http://127.0.0.1:{rest}/v3/embeddings", **base),
                "gRPC": LoadConfig(grpc_url=f"127.0.0.1:{grpc_port}", **base),
            }
            servers[name] = (server, {p: configs[p] for p in protocols})
        for _, configs in servers.values():
            for config in configs.values():
                await run_load(groups[: w.clients], config)  # warm-up: shapes, connections
        cpu = {(t, p): 0.0 for t in trees for p in protocols}
        loop_cpu = {(t, p): 0.0 for t in trees for p in protocols}
        done = {(t, p): 0 for t in trees for p in protocols}
        wall = {(t, p): 0.0 for t in trees for p in protocols}
        per_block: dict[tuple[str, str], list[float]] = {key: [] for key in cpu}
        order = "ABBA" * args.blocks
        for position, tree in enumerate(order):
            if position % 4 == 0:
                for rounds in per_block.values():
                    rounds.append(0.0)
            server, configs = servers[tree]
            for protocol, config in configs.items():
                timed = LoadConfig(**{**asdict(config), "duration": args.seconds})
                before = cpu_seconds(server.pid) or 0.0
                loop_before = main_thread_cpu_seconds(server.pid) or 0.0
                summary = summarize(await run_load(groups, timed))
                used = (cpu_seconds(server.pid) or before) - before
                key = (tree, protocol)
                cpu[key] += used
                loop_cpu[key] += (main_thread_cpu_seconds(server.pid) or loop_before) - loop_before
                done[key] += summary.succeeded
                per_block[key][-1] += used / max(1, summary.succeeded) / 2
                wall[key] += summary.wall_seconds
                print(
                    f"  {tree} {protocol}: {summary.documents_per_second:8.1f} texts/s, "
                    f"{1000 * used / max(1, summary.succeeded):.3f} ms CPU/req",
                    file=sys.stderr,
                    flush=True,
                )
    print(f"\n{w.label}, {len(order)} rounds ({order}) of {args.seconds:g} s per protocol")
    print(f"A = {args.a} {args.a_flags}\nB = {args.b} {args.b_flags}")
    print(f"load average {' / '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print("| tree | protocol | CPU ms/request | of it, event loop | texts/s |\n|---|---|---|---|---|")
    for key in cpu:
        per = 1000 * cpu[key] / max(1, done[key])
        loop = 1000 * loop_cpu[key] / max(1, done[key])
        rate = done[key] * w.texts / wall[key] if wall[key] else 0.0
        print(f"| {key[0]} | {key[1]} | {per:.3f} | {loop:.3f} | {rate:.1f} |")
    for protocol in protocols:
        a = cpu[("A", protocol)] / max(1, done[("A", protocol)])
        b = cpu[("B", protocol)] / max(1, done[("B", protocol)])
        blocks = sorted(
            rb / ra - 1 for ra, rb in zip(per_block[("A", protocol)], per_block[("B", protocol)], strict=True)
        )
        loop_a = loop_cpu[("A", protocol)] / max(1, done[("A", protocol)])
        loop_b = loop_cpu[("B", protocol)] / max(1, done[("B", protocol)])
        print(
            f"{protocol}: B - A = {1000 * (b - a):+.3f} ms CPU per request ({b / a - 1:+.1%}); "
            f"by block {', '.join(f'{r:+.1%}' for r in blocks)}; "
            f"event loop {1000 * (loop_b - loop_a):+.3f} ms"
        )


def main() -> int:
    p = argparse.ArgumentParser(description="ABBA comparison of two ovserve trees (server CPU per request)")
    p.add_argument("--a", required=True, help="source tree A (put first on PYTHONPATH)")
    p.add_argument("--b", default=str(REPO), help="source tree B (default: this checkout)")
    p.add_argument("--a-flags", default="", help="extra server flags for A (one shell-quoted string)")
    p.add_argument("--b-flags", default="", help="extra server flags for B")
    p.add_argument("--workload", default="W2", choices=[w.name for w in WORKLOADS])
    p.add_argument("--protocols", default="REST,gRPC")
    p.add_argument("--seconds", type=float, default=3.0, help="length of one timed round")
    p.add_argument("--blocks", type=int, default=2, help="ABBA blocks")
    p.add_argument("--weight-format", choices=("int8", "fp32"), default="int8")
    p.add_argument("--execution_precision", default="auto")
    p.add_argument("--encoding-format", choices=("float", "base64"), default="float")
    args = p.parse_args()
    config = served_workspace(args.weight_format, args.execution_precision)
    with tempfile.TemporaryDirectory(prefix="ovserve-abba-") as tmp:
        workspace = copy_workspace(config, Path(tmp) / "workspace")
        asyncio.run(measure(args, workspace, Path(tmp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
