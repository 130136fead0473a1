"""The harness of the malformed-workspace tables: `Case`, the tree every case is written over,
config builders, and the check every entry-level case must pass.

Table-driven: each malformed workspace gives one precise message, at the right level.
A case is either file-level (`read_workspace` raises `ConfigError`) or entry-level (the entry is
in `Workspace.rejected` and the valid model "good", written last, still loads). The tables are
in `test_malformed_config_file` (file-level), `test_malformed_entry_fields` and
`test_malformed_entry_resolution` (entry-level).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ovserve.workspace import read_workspace
from tests.workspace.trees import EMBEDDINGS_GRAPH, Link, Tree, config_json, model, write_tree

CONFIG = "models/config.json"
GOOD = model("good", "good")
BASE: dict[str, str | Link | None] = {
    "models/good/1/model.xml": "",
    "models/plain/1/model.xml": "",
    "models/g/graph.pbtxt": EMBEDDINGS_GRAPH,
    "models/g/tok/1/model.xml": "",
    "outside/1/model.xml": "",
    "outside/graph.pbtxt": EMBEDDINGS_GRAPH,
}


@dataclass(frozen=True)
class Case:
    id: str
    files: Tree
    message: str
    """Expected message, or a part of it (`...` nowhere: we check `in`)."""
    rejected: tuple[str, str] | None = None
    """(name, kind) of the rejected entry; None for a file-level `ConfigError`."""
    config: str = CONFIG
    also_rejected: tuple[str, ...] = field(default=())
    """Names of further entries expected in `rejected` (e.g. the graph of a bad subconfig model)."""


def cfg(*items: object, **sections: object) -> dict[str, str | Link | None]:
    return {CONFIG: config_json(*items, GOOD, **sections)}


def load_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case) -> Path:
    write_tree(tmp_path, {**BASE, **case.files})
    monkeypatch.chdir(tmp_path)  # so that messages name the file as the operator wrote it
    return Path(case.config)


def assert_disables_only_that_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case) -> None:
    """The entry `case.rejected` names is rejected with `case.message` (and the entries of
    `case.also_rejected` are rejected too), the valid model "good" still loads, and no rejected
    entry is served."""
    assert case.rejected is not None
    workspace = read_workspace(load_case(tmp_path, monkeypatch, case))
    name, kind = case.rejected
    matching = [r for r in workspace.rejected if case.message in r.message]
    assert matching, "\n".join(r.message for r in workspace.rejected)
    assert (matching[0].name, matching[0].kind) == (name, kind)
    assert matching[0].message.startswith(("models/", "models\\"))
    rejected_names = {r.name for r in workspace.rejected}
    assert set(case.also_rejected) <= rejected_names
    assert "good" in {m.name for m in workspace.models}, "the valid entry must still load"
    served = {m.origin for m in workspace.all_models()} | {g.origin for g in workspace.graphs}
    assert not served & {r.origin for r in workspace.rejected}, "a rejected entry must not be served"
