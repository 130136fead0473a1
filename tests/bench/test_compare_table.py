"""benchmarks/workloads.py: the comparison table's overheads, against raw's best and raw as configured.

The figures are made up; what is checked is the bookkeeping: a server's overhead is taken
against raw's best configuration and, separately, against raw at the workspace's own
`plugin_config`, whose row sits next to raw's with its ratio to it.
"""

from __future__ import annotations

import math
import sys

import pytest

from tests.support.models import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from raw_runs import RawFigure
from table import Row, render
from workloads import verdicts


def raw_figure(config: str, texts_per_second: float, cpu_ms_per_text: float) -> RawFigure:
    return RawFigure(
        config=config,
        p50_ms=math.nan,
        texts_per_second=texts_per_second,
        tokens_per_second=8 * texts_per_second,
        cpu_ms_per_text=cpu_ms_per_text,
    )


def w2_rows() -> dict[str, dict[str, Row]]:
    served = Row(workload="W2", system="ovserve REST", figure=500.0, unit="texts/s", cpu_ms=3.5)
    return {"W2": {"ovserve REST": served}}


def test_a_server_row_gets_both_overheads_and_raw_as_configured_its_own_row() -> None:
    rows = w2_rows()
    best = {"W2": raw_figure("THROUGHPUT async ×2, batch 64", 900.0, 2.2)}
    configured = {"W2": raw_figure("plugin_config sync, batch 64", 750.0, 2.6)}
    table = verdicts(rows, best, configured)
    systems = [row.system for row in table]
    assert systems == ["raw OpenVINO", "raw OpenVINO, servers' plugin_config", "ovserve REST"]
    same = table[1]
    assert same.ratio == pytest.approx(750.0 / 900.0)
    assert same.verdict == "reference"
    served = table[2]
    assert served.overhead_ms == pytest.approx(3.5 - 2.2)
    assert served.path_overhead_ms == pytest.approx(3.5 - 2.6)
    # The verdict stays on the overhead against raw's best (1.3 ms > 0.4 ms).
    assert "overhead 1.30 ms" in served.verdict
    assert "+0.90 ms" in render(table)


def test_without_raw_as_configured_the_table_is_as_before() -> None:
    table = verdicts(w2_rows(), {"W2": raw_figure("THROUGHPUT async ×2, batch 64", 900.0, 2.2)})
    assert [row.system for row in table] == ["raw OpenVINO", "ovserve REST"]
    assert table[1].path_overhead_ms is None
