"""`ovserve bench` end to end against real servers started in the test."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ovserve.bench.cli import main
from ovserve.bench.load import LoadConfig, run_load
from ovserve.bench.progress import Progress
from ovserve.bench.transport import HttpTransport, Outcome, skim_openai
from tests.bench.fake_server import fake_server


@pytest.fixture
def url() -> Iterator[str]:
    with fake_server() as served:
        yield served


def test_synthetic_run_prints_every_figure(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--api_url",
            url,
            "--synthetic_length",
            "8",
            "--limit",
            "40",
            "--batch_size",
            "4",
            "--concurrency",
            "3",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Number of documents: 40" in out
    assert "Tokens: 320" in out  # 40 documents × (6 words + 2 specials)
    assert "Success rate: 100.0%. (10/10)" in out
    for figure in (
        "Tokens per second",
        "Requests per second",
        "Documents per second",
        "Median latency",
        "P99",
    ):
        assert figure in out
    assert "Client CPU share" in out


def test_failures_are_counted_and_written_as_json(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = tmp_path / "docs.txt"
    dataset.write_text("".join(f"doc number {i}\n" if i % 5 else f"FAIL {i}\n" for i in range(20)))
    report = tmp_path / "out.json"
    options = ["--dataset", str(dataset), "--encoding_format", "base64", "--request_rate", "500"]
    code = main(["--api_url", url, *options, "--json", str(report), "--no_progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Success rate: 80.0%. (16/20)" in out
    assert "4 × HTTP 500" in out
    data = json.loads(report.read_text())
    assert data["settings"]["request_rate"] == 500.0
    assert data["settings"]["dataset"] == str(dataset)
    results = data["results"]
    assert (results["requests"], results["succeeded"], results["tokens"]) == (20, 16, 16 * 5)
    assert results["success_rate"] == 0.8
    assert list(results["errors"].values()) == [4]


def test_infinite_rate_is_written_as_a_string(url: str, tmp_path: Path) -> None:
    report = tmp_path / "out.json"
    assert main(["--api_url", url, "--limit", "3", "--json", str(report), "--no_progress"]) == 0
    assert json.loads(report.read_text())["settings"]["request_rate"] == "inf"


def test_unreachable_server_fails_every_request_without_crashing(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(["--api_url", f"http://127.0.0.1:{port}/v3/embeddings", "--limit", "5", "--no_progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Success rate: 0.0%. (0/5)" in out
    assert "ClientConnectorError" in out


def test_a_repeat_ratio_outside_0_1_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repeat_ratio", "2", "--limit", "3", "--no_progress"]) == 2
    assert "--repeat_ratio" in capsys.readouterr().err


def test_missing_dataset_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dataset", str(tmp_path / "none.txt")]) == 2
    assert "none.txt" in capsys.readouterr().err


async def test_run_load_in_process_with_progress_lines(tmp_path: Path) -> None:
    with fake_server() as served:
        log = (tmp_path / "progress.log").open("w")
        progress = Progress(6, stream=log, interval=0.0)
        result = await run_load([["a b"]] * 6, LoadConfig(api_url=served, concurrency=2), progress=progress)
        log.close()
    assert [r.outcome.prompt_tokens for r in result.records] == [4] * 6
    lines = (tmp_path / "progress.log").read_text().splitlines()
    assert len(lines) == 6  # one line per update when not a terminal (interval 0 here)
    assert lines[-1].startswith("[##############################] 6/6 requests")


async def test_duration_stops_sending() -> None:
    with fake_server() as served:
        config = LoadConfig(api_url=served, concurrency=2, duration=0.3)
        result = await run_load([["a"]] * 20_000, config)
    assert 0 < len(result.records) < 20_000
    assert all(r.outcome.ok for r in result.records)
    assert result.wall_seconds < 5


def test_skim_reads_usage_and_checks_the_count() -> None:
    body = b'{"object":"list","data":[{"object":"embedding","embedding":[0.1],"index":0}],'
    body += b'"model":"m","usage":{"prompt_tokens":7,"total_tokens":7}}'
    assert skim_openai(body, 1).prompt_tokens == 7
    wrong = skim_openai(body, 2)
    assert not wrong.ok
    assert "expected 2 embeddings, got 1" in (wrong.error or "")


async def test_an_unexpected_transport_error_costs_one_request(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = HttpTransport.send

    async def flaky(self: HttpTransport, body: bytes, documents: int) -> Outcome:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("transport bug")
        return await original(self, body, documents)

    monkeypatch.setattr(HttpTransport, "send", flaky)
    with fake_server() as served:
        result = await run_load([["a"]] * 4, LoadConfig(api_url=served))
    assert [r.outcome.ok for r in result.records] == [True, False, True, True]
    assert result.errors == {"RuntimeError: transport bug": 1}
