"""Version directories and every version policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from ovserve.workspace import VersionPolicy, scan_versions
from tests.workspace.trees import DIR, Link, write_tree


def test_scan_keeps_integer_directories_and_warns_about_other_directories(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "m/1/model.xml": "",
            "m/2": DIR,  # empty: still a version; loading it fails later
            "m/10/model.onnx": "",
            "m/abc": DIR,
            "m/0": DIR,
            "m/-1": DIR,
            "m/01": DIR,
            "m/README.md": "",
            "m/3": "a file, not a version",
        },
    )
    versions, warnings = scan_versions(tmp_path / "m")
    assert versions == [1, 2, 10]
    ignored = sorted(w.split(":")[0] for w in warnings)
    assert ignored == sorted(str(tmp_path / "m" / n) for n in ("-1", "0", "01", "abc"))
    assert all(w.endswith("ignored, a version directory name must be an integer > 0") for w in warnings)


def test_scan_of_missing_directory_gives_one_warning(tmp_path: Path) -> None:
    versions, warnings = scan_versions(tmp_path / "nope")
    assert versions == []
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{tmp_path / 'nope'}: cannot list version directories")


def test_scan_ignores_version_symlinked_outside_the_boundary(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "outside/7/model.xml": "",
            "ws/m/1/model.xml": "",
            "ws/m/2": Link("1"),
            "ws/m/7": Link("../../outside/7"),
        },
    )
    versions, warnings = scan_versions(tmp_path / "ws/m", boundary=tmp_path / "ws")
    assert versions == [1, 2]
    assert warnings == [
        f"{tmp_path / 'ws/m/7'}: ignored, it resolves through a symlink to outside {tmp_path / 'ws'}"
    ]
    assert scan_versions(tmp_path / "ws/m")[0] == [1, 2, 7]


@pytest.mark.parametrize(
    ("policy", "available", "selected"),
    [
        (VersionPolicy(), [1, 2, 3], [3]),
        (VersionPolicy(kind="latest", num_versions=2), [3, 1, 2], [2, 3]),
        (VersionPolicy(kind="latest", num_versions=5), [2, 1], [1, 2]),
        (VersionPolicy(), [], []),
        (VersionPolicy(kind="specific", versions=(1, 3, 9)), [1, 2, 3], [1, 3]),
        (VersionPolicy(kind="specific", versions=(9,)), [1, 2], []),
        (VersionPolicy(kind="all"), [3, 1, 2, 2], [1, 2, 3]),
        (VersionPolicy(kind="all"), [0, -1, 4], [4]),
    ],
    ids=[
        "default-latest-1",
        "latest-2",
        "latest-more-than-available",
        "latest-none-available",
        "specific-intersection",
        "specific-none-present",
        "all-sorted-deduplicated",
        "all-drops-non-positive",
    ],
)
def test_policy_selects_ascending(policy: VersionPolicy, available: list[int], selected: list[int]) -> None:
    assert policy.select(available) == selected
