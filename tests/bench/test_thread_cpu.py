"""benchmarks/thread_cpu.py and instrumented_server.py: the CPU breakdown adds up and is labelled right.

The figures themselves are the script's output and are never asserted; what is checked is the
bookkeeping: OpenVINO calls are counted under the module that made them and subtracted from
the graph threads, every thread lands in exactly one part, and the report round-trips.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

from tests.support.models import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import instrumented_server
import thread_cpu

PID = 100


def snapshot(
    threads: dict[int, float], ov_cpu_s: dict[str, float], ov_calls: dict[str, int]
) -> thread_cpu.Snapshot:
    names = {101: "ovserve-graph_0", 102: "ovserve-graph_1", 103: "asyncio_0"}
    return thread_cpu.Snapshot(
        threads=threads, kernel=thread_cpu.KernelCounts(), names=names, ov_cpu_s=ov_cpu_s, ov_calls=ov_calls
    )


def test_breakdown_splits_threads_and_subtracts_openvino_calls_from_graph_threads() -> None:
    before = snapshot({PID: 1.0, 101: 2.0, 102: 2.0, 103: 0.0, 200: 5.0}, {"ov_model": 0.5}, {"ov_model": 1})
    after = snapshot(
        # 200 is a native (OpenVINO) thread, 201 one that started during the round.
        {PID: 1.4, 101: 3.0, 102: 2.5, 103: 0.1, 200: 5.6, 201: 0.2},
        {"ov_model": 1.3, "ov_tokenizer": 0.2},
        {"ov_model": 5, "ov_tokenizer": 50},
    )
    rows = dict(thread_cpu.breakdown(PID, before, after, requests=100))
    assert rows["event loop (main thread)"] == pytest.approx(4.0)
    # 1.5 s on the graph threads, of which 0.8 + 0.2 s were in OpenVINO calls.
    assert rows["graph threads, Python"] == pytest.approx(5.0)
    assert rows["OpenVINO calls from ov_model (0.040 per request)"] == pytest.approx(8.0)
    assert rows["OpenVINO calls from ov_tokenizer (0.500 per request)"] == pytest.approx(2.0)
    assert rows["OpenVINO's own threads (and other native ones)"] == pytest.approx(8.0)
    assert rows["other Python threads (asyncio)"] == pytest.approx(1.0)
    # The parts are the process's CPU: 0.4 + 1.5 + 0.1 + 0.6 + 0.2 s over 100 requests.
    assert rows["total"] == pytest.approx(28.0)
    parts = [v for k, v in rows.items() if k != "total"]
    assert sum(parts) == pytest.approx(rows["total"])


def test_thread_cpu_reads_every_thread_of_a_process() -> None:
    cpu = thread_cpu.thread_cpu(os.getpid())
    assert threading.get_native_id() in cpu
    assert all(value >= 0 for value in cpu.values())


def test_kernel_counts_see_this_thread_block() -> None:
    before = thread_cpu.kernel_counts(os.getpid())
    for _ in range(5):
        time.sleep(0.001)  # the thread blocks in the kernel: one voluntary switch each time
    after = thread_cpu.kernel_counts(os.getpid())
    assert after.system_s >= before.system_s >= 0
    assert after.involuntary >= before.involuntary >= 0
    assert after.voluntary >= before.voluntary + 5


def test_kernel_line_gives_per_request_figures() -> None:
    before = thread_cpu.KernelCounts(system_s=1.0, voluntary=100, involuntary=10)
    after = thread_cpu.KernelCounts(system_s=1.5, voluntary=1100, involuntary=510)
    assert thread_cpu.kernel_line(before, after, requests=100) == (
        "per request: 5.000 ms of it in the kernel, 10.0 voluntary and 5.0 involuntary context switches"
    )


def test_instrumented_infer_counts_calls_by_calling_module_and_reports_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = ops.parameter([1, 4], ov.Type.f32, name="x")
    compiled = ov.Core().compile_model(ov.Model([ops.relu(x)], [x], "tiny"), "CPU")
    request = compiled.create_infer_request()
    out = instrumented_server._timed_infer(request, {0: np.ones((1, 4), np.float32)})
    assert np.array_equal(next(iter(out.values())), np.ones((1, 4), np.float32))
    assert instrumented_server._ov_calls["test_thread_cpu"] >= 1
    report = tmp_path / "threads.json"
    monkeypatch.setenv(instrumented_server.REPORT_ENV, str(report))
    instrumented_server._write_report(0, None)
    data = thread_cpu.read_report(report)
    assert data is not None
    assert data["seq"] == instrumented_server._signals
    assert data["threads"][str(threading.get_native_id())] == threading.current_thread().name
    assert data["ov_calls"]["test_thread_cpu"] >= 1
    assert thread_cpu.read_report(tmp_path / "absent.json") is None
