"""The graph request families behind deploy/monitoring: scraped from a real server and parsed
with `prometheus_client`; every series of a served graph exists at 0 before any request; the
dashboard and the alert rules use only families the server exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
import yaml
from prometheus_client.parser import text_string_to_metric_families

from ovserve.server import Server
from tests.running import running_server
from tests.support.models import DEFAULT_GRAPH_NAME, REPO_ROOT, exported_workspace

pytestmark = [pytest.mark.slow]

MONITORING = REPO_ROOT / "deploy" / "monitoring"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def metered() -> AsyncIterator[Server]:
    async with running_server(exported_workspace(), metrics_enable=True) as started:
        yield started


async def samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    url = f"http://127.0.0.1:{server.rest_port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def requests_total(scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], **labels: str) -> float:
    key = tuple(sorted({"name": DEFAULT_GRAPH_NAME, **labels}.items()))
    return scraped[("ovserve_requests_total", key)]


@pytest.mark.asyncio(loop_scope="module")
async def test_ovms_families_have_every_series_at_zero_before_any_request(metered: Server) -> None:
    """OVMS's families too: error-ratio panels built on `ovms_requests_fail` read 0, not "no data"."""
    scraped = await samples(metered)
    graph = DEFAULT_GRAPH_NAME
    calls = [
        ("KServe", "REST", "ModelInfer"),
        ("KServe", "gRPC", "ModelInfer"),
        ("KServe", "gRPC", "ModelInferStream"),
    ]
    expected: list[tuple[str, dict[str, str]]] = [("ovms_current_graphs", {"name": graph})]
    for api, interface, method in [("V3", "REST", "Unary"), *calls]:
        labels = {"api": api, "interface": interface, "method": method, "name": graph}
        for family in (
            "ovms_requests_accepted",
            "ovms_requests_rejected",
            "ovms_responses",
            "ovms_graph_error",
        ):
            expected.append((f"{family}_total", labels))
        expected.append(("ovms_graph_processing_time_us_count", {"name": graph, "method": method}))
    for model in (f"{graph}_tokenizer_model", f"{graph}_embeddings_model"):
        for api, interface, method in calls:
            labels = {"api": api, "interface": interface, "method": method, "name": model, "version": "1"}
            expected += [("ovms_requests_success_total", labels), ("ovms_requests_fail_total", labels)]
        for interface in ("REST", "gRPC"):
            expected.append(
                ("ovms_request_time_us_count", {"interface": interface, "name": model, "version": "1"})
            )
        expected.append(("ovms_inference_time_us_count", {"name": model, "version": "1"}))
        expected.append(("ovms_current_requests", {"name": model, "version": "1"}))
    values = {
        (name, tuple(sorted(labels.items()))): scraped.get((name, tuple(sorted(labels.items()))))
        for name, labels in expected
    }
    assert {key: value for key, value in values.items() if value != 0} == {}


@pytest.mark.asyncio(loop_scope="module")
async def test_graph_series_exist_at_zero_then_count(metered: Server) -> None:
    before = await samples(metered)
    for api in ("V3", "KServe"):
        for interface in ("REST", "gRPC"):
            for code in ("ok", "error", "rejected"):
                assert requests_total(before, api=api, interface=interface, code=code) == 0
    url = f"http://127.0.0.1:{metered.rest_port}/v3/embeddings"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"model": DEFAULT_GRAPH_NAME, "input": "hello"}) as ok:
            assert ok.status == 200
        async with session.post(url, json={"model": DEFAULT_GRAPH_NAME, "input": 5}) as bad:
            assert bad.status == 400
    after = await samples(metered)
    assert requests_total(after, api="V3", interface="REST", code="ok") == 1
    assert requests_total(after, api="V3", interface="REST", code="error") == 1
    count = (
        "ovserve_request_duration_seconds_count",
        (("api", "V3"), ("interface", "REST"), ("name", DEFAULT_GRAPH_NAME)),
    )
    assert after[count] == 2


def test_dashboard_and_alerts_use_exported_families() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [r["expr"] for g in rules["groups"] for r in g["rules"]]
    used = {name for expr in exprs for name in re.findall(r"\b(ovserve_[a-z_]+)", expr)}
    exported = {
        "ovserve_requests_total",
        "ovserve_request_duration_seconds_bucket",
        "ovserve_prompt_tokens_total",
    }
    assert used
    assert used <= exported


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    result = subprocess.run(
        [promtool, "check", "rules", str(MONITORING / "alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
