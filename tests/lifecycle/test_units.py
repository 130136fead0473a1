"""Fast checks of the lifecycle's building blocks: version planning, settling, graph leases."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ovserve.errors import NotFound, Unavailable
from ovserve.lifecycle.fingerprint import SettleTracker, file_digest
from ovserve.models.planning import wanted_versions
from ovserve.repository.graph_table import GraphTable
from ovserve.workspace import VersionPolicy


@pytest.mark.parametrize(
    ("policy", "failed", "expected"),
    [
        (VersionPolicy(), set(), [3]),
        (VersionPolicy(), {3}, [2]),  # the newest failed: fall back to the next one
        (VersionPolicy(num_versions=2), {2}, [1, 3]),
        (VersionPolicy(kind="specific", versions=(1, 3, 9)), {3}, [1]),
        (VersionPolicy(kind="all"), {1}, [2, 3]),
    ],
)
def test_wanted_versions(policy: VersionPolicy, failed: set[int], expected: list[int]) -> None:
    assert wanted_versions(policy, [1, 2, 3], failed) == expected


def test_a_directory_settles_when_two_looks_agree(tmp_path: Path) -> None:
    settled = SettleTracker()
    version = tmp_path / "1"
    version.mkdir()
    assert not settled(version)  # empty: nothing to load yet
    (version / "model.xml").write_text("<net/>")
    assert not settled(version)  # first sight
    assert settled(version)
    (version / "model.bin").write_bytes(b"\0" * 8)
    assert not settled(version)  # still changing
    pausing = SettleTracker(pause=0.01, sleep=lambda _: None)
    assert pausing(version)  # the reload endpoint looks twice within one call


def test_file_digest(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    assert file_digest(path) == "missing"
    assert file_digest(None) == ""
    path.write_text("{}")
    first = file_digest(path)
    path.write_text("{ }")
    assert file_digest(path) != first


class FakeGraph:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_a_replaced_graph_closes_only_after_its_leases() -> None:
    table: GraphTable[FakeGraph] = GraphTable()
    with pytest.raises(NotFound, match="Mediapipe graph definition with requested name is not found"):
        table.get("g")
    table.loading("g")
    with pytest.raises(Unavailable, match="Mediapipe is not loaded yet"):
        table.get("g")
    old, new = FakeGraph(), FakeGraph()
    table.install("g", old)
    with table.lease("g") as held:
        assert table.install("g", new) is old
        assert table.get("g") is new
        drained = threading.Thread(target=table.drain, args=(old,))
        drained.start()
        time.sleep(0.05)
        assert not held.closed  # the request holding it is still running
    drained.join(timeout=5)
    assert old.closed
    assert not new.closed


def test_a_lease_ends_with_its_block_even_when_the_block_raises(caplog: pytest.LogCaptureFixture) -> None:
    table: GraphTable[FakeGraph] = GraphTable()
    with pytest.raises(NotFound), table.lease("missing"):
        pass  # refused on entry: nothing is held
    graph = FakeGraph()
    table.install("g", graph)
    with pytest.raises(RuntimeError, match="request failed"), table.lease("g"):
        raise RuntimeError("request failed")
    with table.lease("g"), table.lease("g"):
        pass  # two requests at once
    started = time.monotonic()
    table.drain(graph, timeout=1)  # no request holds it any more: closes without waiting
    assert time.monotonic() - started < 0.5
    assert graph.closed
    assert "still in flight" not in caplog.text


def test_a_failed_reload_keeps_the_previous_graph_and_says_so() -> None:
    table: GraphTable[FakeGraph] = GraphTable()
    graph = FakeGraph()
    table.install("g", graph)
    table.failed("g", "bad calculator")
    assert table.get("g") is graph
    state = table.statuses()["g"]
    assert (state.state.name, state.code.name) == ("AVAILABLE", "FAILED_PRECONDITION")
    assert "bad calculator" in state.details


def test_a_retired_graph_says_so() -> None:
    table: GraphTable[FakeGraph] = GraphTable()
    graph = FakeGraph()
    table.install("g", graph)
    assert table.retire("g") is graph
    with pytest.raises(NotFound, match="Mediapipe is retired"):
        table.get("g")
    assert table.statuses()["g"].state.name == "END"
