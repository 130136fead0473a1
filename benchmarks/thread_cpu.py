"""Where a server's CPU per request goes, by thread: event loop, graph Python, OpenVINO.

    .venv/bin/python benchmarks/thread_cpu.py [--workload W2] [--protocols REST,gRPC] [--seconds 8]
        [--flags="--no-access_log"]

Starts ovserve on the int8 export of `compare.py` under `instrumented_server.py`, which
times every OpenVINO `infer` call on the thread that makes it. Around one timed round per
protocol it reads each thread's CPU time from /proc and prints, per successful request:

* event loop: the main thread (HTTP or gRPC front end, middlewares, admission, access log);
* graph threads, Python: the graph executor's workers minus their OpenVINO calls (nodes,
  batcher and tokenizer bookkeeping, response encoding);
* OpenVINO calls on graph threads, by calling module (`ov_tokenizer`: the tokenizer model;
  `ov_model`: the embeddings model, whose synchronous `infer` computes on the calling thread
  as one of the stream's threads);
* OpenVINO's own threads (the other threads of the model's stream, and any idle spinning);
* other threads (gRPC's, asyncio's default executor, ...).

The sum is the process CPU that `abba.py` and `compare.py` report. Beside it: raw's model CPU
per text is what `compare.py`'s raw row prints; a model's CPU per text here above that figure
is contention (its threads wait for each other while Python holds a core) and batch size.

Below the table come, per request and over all the server's threads, the kernel's share of
that CPU and the context switches (voluntary: a thread blocked, e.g. on a lock or a socket;
involuntary: it was preempted): what thread hand-offs cost beyond their Python.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shlex
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from instrumented_server import REPORT_ENV  # noqa: E402
from processes import ServerProcess, free_port, stat_cpu_seconds, stat_system_seconds  # noqa: E402
from workloads import WORKLOADS, request_groups, served_workspace  # noqa: E402

from ovserve.bench import LoadConfig, run_load, summarize  # noqa: E402
from tests.support.models import copy_workspace  # noqa: E402

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
GRAPH_THREAD_PREFIX = "ovserve-"
"""`NodeExecutor` names its workers `ovserve-<graph>_<n>`."""


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds of each thread (by native id), the kernel's counts, and the server's OpenVINO
    call counters."""

    threads: dict[int, float]
    kernel: KernelCounts
    names: dict[int, str]
    ov_cpu_s: dict[str, float]
    ov_calls: dict[str, int]


@dataclass(frozen=True)
class KernelCounts:
    """Totals over a process's live threads: system CPU seconds and context switches."""

    system_s: float = 0.0
    voluntary: int = 0
    involuntary: int = 0


def kernel_counts(pid: int) -> KernelCounts:
    """System CPU and context switches of every live thread of `pid`, from /proc/<pid>/task.

    Read per thread because /proc/<pid>/status counts only the main thread's switches; a
    thread that ended between two snapshots takes its counts with it."""
    system = 0.0
    voluntary = involuntary = 0
    for _, (stat, status) in _task_files(pid, "stat", "status"):
        system += stat_system_seconds(stat)
        for line in status.splitlines():
            key, _, value = line.partition(":")
            if key == "voluntary_ctxt_switches":
                voluntary += int(value)
            elif key == "nonvoluntary_ctxt_switches":
                involuntary += int(value)
    return KernelCounts(system, voluntary, involuntary)


def thread_cpu(pid: int) -> dict[int, float]:
    """User + system CPU seconds of every live thread of `pid`, from /proc/<pid>/task."""
    return {tid: stat_cpu_seconds(stat) for tid, (stat,) in _task_files(pid, "stat")}


def _task_files(pid: int, *names: str) -> Iterator[tuple[int, list[str]]]:
    """(thread id, the texts of its /proc files `names`) for each live thread of `pid`."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            texts = [(task / name).read_text() for name in names]
        except OSError:
            continue  # the thread ended meanwhile
        yield int(task.name), texts


def read_report(report: Path) -> dict[str, Any] | None:
    """The server's last thread report, or None before its first (a small file: read inline)."""
    try:
        data: dict[str, Any] = orjson.loads(report.read_bytes())
    except FileNotFoundError:
        return None
    return data


async def snapshot(pid: int, report: Path, seq: int) -> Snapshot:
    """Ask the server for report number `seq` (SIGUSR2) and read it with the threads' CPU."""
    threads, kernel = thread_cpu(pid), kernel_counts(pid)
    os.kill(pid, signal.SIGUSR2)
    for _ in range(200):
        data = read_report(report)
        if data is not None and data["seq"] == seq:
            return Snapshot(
                threads=threads,
                kernel=kernel,
                names={int(k): v for k, v in data["threads"].items()},
                ov_cpu_s=data["ov_cpu_s"],
                ov_calls=data["ov_calls"],
            )
        await asyncio.sleep(0.01)
    raise RuntimeError("the server wrote no thread report (is it instrumented_server.py?)")


def breakdown(pid: int, before: Snapshot, after: Snapshot, requests: int) -> list[tuple[str, float]]:
    """(part, ms of CPU per request) rows, largest first, then the total."""
    groups: collections.defaultdict[str, float] = collections.defaultdict(float)
    for tid, cpu in after.threads.items():
        used = cpu - before.threads.get(tid, 0.0)
        name = after.names.get(tid)
        if tid == pid:
            groups["event loop (main thread)"] += used
        elif name is not None and name.startswith(GRAPH_THREAD_PREFIX):
            groups["graph threads"] += used
        elif name is not None:
            groups[f"other Python threads ({name.rstrip('0123456789_')})"] += used
        else:
            groups["OpenVINO's own threads (and other native ones)"] += used
    calls = {k: after.ov_cpu_s.get(k, 0.0) - before.ov_cpu_s.get(k, 0.0) for k in after.ov_cpu_s}
    groups["graph threads"] -= sum(calls.values())
    rows = [(("graph threads, Python" if k == "graph threads" else k), v) for k, v in groups.items()]
    for module, used in calls.items():
        count = after.ov_calls.get(module, 0) - before.ov_calls.get(module, 0)
        rows.append((f"OpenVINO calls from {module} ({count / max(1, requests):.3f} per request)", used))
    rows = sorted(((k, 1000 * v / max(1, requests)) for k, v in rows if v > 0), key=lambda r: -r[1])
    return [*rows, ("total", sum(v for _, v in rows))]


def kernel_line(before: KernelCounts, after: KernelCounts, requests: int) -> str:
    """Per request: system CPU (ms, part of the total above) and context switches."""
    n = max(1, requests)
    return (
        f"per request: {1000 * (after.system_s - before.system_s) / n:.3f} ms of it in the kernel, "
        f"{(after.voluntary - before.voluntary) / n:.1f} voluntary and "
        f"{(after.involuntary - before.involuntary) / n:.1f} involuntary context switches"
    )


async def measure(args: argparse.Namespace, workspace: Path, logs: Path) -> None:
    w = next(w for w in WORKLOADS if w.name == args.workload)
    groups = request_groups(w)
    rest, grpc_port = free_port(), free_port()
    report = logs / "threads.json"
    command = [sys.executable, str(HERE / "instrumented_server.py"), "--config_path", str(workspace)]
    command += ["--rest_port", str(rest), "--port", str(grpc_port), "--file_system_poll_wait_seconds", "0"]
    command += shlex.split(args.flags)
    server = ServerProcess(
        "ovserve", command, f"http://127.0.0.1:{rest}/v2/health/ready", logs / "ovserve.log"
    )
    # The server runs this script's tree (as `abba.py` runs each of its trees), not whatever
    # tree the environment's editable install points at: a copy of the repository measures itself.
    server.env = {REPORT_ENV: str(report), "PYTHONPATH": str(REPO)}
    configs = {
        "REST": LoadConfig(
            api_url=f"http://127.0.0.1:{rest}/v3/embeddings", model=MODEL, concurrency=w.clients
        ),
        "gRPC": LoadConfig(grpc_url=f"127.0.0.1:{grpc_port}", model=MODEL, concurrency=w.clients),
    }
    seq = 0
    async with server:
        for protocol in args.protocols.split(","):
            config = configs[protocol]
            await run_load(groups[: 4 * w.clients], config)  # warm-up: shapes, connections
            seq += 1
            before = await snapshot(server.pid, report, seq)
            summary = summarize(await run_load(groups, replace(config, duration=args.seconds)))
            seq += 1
            after = await snapshot(server.pid, report, seq)
            print(
                f"\n{w.label}, {protocol}: {summary.succeeded} requests, "
                f"{summary.documents_per_second:.1f} texts/s"
            )
            print("| part | CPU ms per request |\n|---|---|")
            for part, ms in breakdown(server.pid, before, after, summary.succeeded):
                print(f"| {part} | {ms:.3f} |")
            print(kernel_line(before.kernel, after.kernel, summary.succeeded))


def main() -> int:
    p = argparse.ArgumentParser(description="ovserve's CPU per request, by thread")
    p.add_argument("--workload", default="W2", choices=[w.name for w in WORKLOADS])
    p.add_argument("--protocols", default="REST,gRPC")
    p.add_argument("--seconds", type=float, default=8.0, help="length of the timed round per protocol")
    p.add_argument("--flags", default="", help="extra server flags (one shell-quoted string)")
    p.add_argument("--weight-format", choices=("int8", "fp32"), default="int8")
    args = p.parse_args()
    config = served_workspace(args.weight_format)
    with tempfile.TemporaryDirectory(prefix="ovserve-threads-") as tmp:
        workspace = copy_workspace(config, Path(tmp) / "workspace")
        asyncio.run(measure(args, workspace, Path(tmp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
