"""What the machine is: CPU model and flags, load, and whether ovserve has a gRPC front end."""

from __future__ import annotations

import importlib
import os
from pathlib import Path


def cpu_line() -> str:
    """CPU model, core count and the instruction-set flags that change OpenVINO's choices."""
    model, flags = "unknown CPU", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
    have = [f for f in wanted if f in flags] or ["none of avx2/avx512/amx"]
    return f"{model}, {os.cpu_count()} logical cores, flags: {' '.join(have)}"


def grpc_unavailable() -> str | None:
    """Why ovserve has no KServe gRPC front end to measure, or None when it has one."""
    try:
        module = importlib.import_module("ovserve.frontends.grpc.kserve_v2")
    except ImportError as exc:
        return f"n/a (no gRPC front end: {exc})"
    return None if hasattr(module, "KServeServicer") else "n/a (no gRPC front end)"


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on a shared machine makes figures noisier."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())
