"""Suite-wide hooks: every run names the CPU kind it ran on, at the top and at the end.

OpenVINO's CPU plugin runs differently per CPU (bf16 and int8 activations where the CPU has
them, f32 elsewhere; `ovserve.runtime.execution`), so a failure report must say which kind ran.
"""

from __future__ import annotations

import functools

import openvino as ov
import pytest

from ovserve.runtime.execution import describe_cpu


@functools.cache
def cpu_line() -> str:
    return f"CPU kind: {describe_cpu(ov.Core())}; OpenVINO {ov.get_version()}"


def pytest_report_header(config: pytest.Config) -> str:
    return cpu_line()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(cpu_line())
