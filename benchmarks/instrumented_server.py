"""`python -m ovserve` with OpenVINO calls timed per thread, for `thread_cpu.py`.

    python benchmarks/instrumented_server.py <ovserve flags> (env OVSERVE_THREAD_REPORT=<file>)

Before the server starts, `openvino.InferRequest.infer` is wrapped so that each call adds the
calling thread's CPU time (`time.thread_time`) to a counter keyed by the module that called it
(`ov_tokenizer`, `ov_model`, ...). On SIGUSR2 (ovserve keeps SIGUSR1 for its traceback dump)
the process writes, to the file named by `OVSERVE_THREAD_REPORT`, the name of every Python
thread by its native id and those counters.
The signal handler runs on the main thread between bytecodes, so the file is complete when its
`seq` equals the number of signals sent. Instrumentation only: nothing of this is in ovserve.

The wrapper costs one `thread_time` pair and a dict update per OpenVINO call (tens of calls
per 1,000 requests under W2 at ~30 rows per inference, and one tokenizer call per ~4 texts).
"""

from __future__ import annotations

import collections
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import openvino
import orjson

REPORT_ENV = "OVSERVE_THREAD_REPORT"

_ov_cpu: collections.defaultdict[str, float] = collections.defaultdict(float)
_ov_calls: collections.Counter[str] = collections.Counter()
_signals = 0
_original_infer = openvino.InferRequest.infer


def _timed_infer(self: openvino.InferRequest, *args: Any, **kwargs: Any) -> Any:
    caller = Path(sys._getframe(1).f_code.co_filename).stem
    started = time.thread_time()
    try:
        return _original_infer(self, *args, **kwargs)
    finally:
        # Counter updates of distinct keys from several threads: a lost update would need two
        # threads inside the same dict operation, which the GIL rules out.
        _ov_cpu[caller] += time.thread_time() - started
        _ov_calls[caller] += 1


def _write_report(_signum: int, _frame: FrameType | None) -> None:
    global _signals
    _signals += 1
    report = {
        "seq": _signals,
        "threads": {str(t.native_id): t.name for t in threading.enumerate()},
        "ov_cpu_s": dict(_ov_cpu),
        "ov_calls": dict(_ov_calls),
    }
    target = Path(os.environ[REPORT_ENV])
    partial = target.with_suffix(".partial")
    partial.write_bytes(orjson.dumps(report))
    partial.replace(target)


def main() -> int:
    openvino.InferRequest.infer = _timed_infer
    signal.signal(signal.SIGUSR2, _write_report)
    from ovserve.cli import main as ovserve_main

    return ovserve_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
