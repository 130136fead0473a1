"""The naming rule of `ovserve.names` on a small stand-in for the repository, and its inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from ovserve.errors import ConfigError
from ovserve.names import ModelNames, parse_alias_flags, read_alias_file
from ovserve.repository import Repository
from ovserve.status import VersionState, VersionStatus


@dataclass
class _Workspace:
    graphs: tuple[Any, ...] = ()
    models: tuple[Any, ...] = ()


@dataclass
class _Repository:
    graphs: set[str]
    models: set[str]
    used: dict[str, frozenset[str]] = field(default_factory=dict)
    workspace: _Workspace = field(default_factory=_Workspace)

    def statuses(self) -> dict[str, list[VersionStatus]]:
        ok = VersionStatus(version=1, state=VersionState.AVAILABLE)
        return {name: [ok] for name in self.graphs | self.models}

    def is_graph(self, name: str) -> bool:
        return name in self.graphs

    def models_used_by(self, graph: str) -> frozenset[str]:
        return self.used.get(graph, frozenset())


def names_over(
    graphs: set[str],
    models: set[str] | None = None,
    used: dict[str, frozenset[str]] | None = None,
    aliases: dict[str, str] | None = None,
) -> ModelNames:
    repository = _Repository(graphs, models or set(), dict(used or {}))
    return ModelNames(cast(Repository, repository), aliases)


def test_a_shared_last_segment_resolves_to_nothing() -> None:
    names = names_over({"a/e5-small", "b/e5-small", "c/bge"})
    assert names.resolve("e5-small") == "e5-small"  # ambiguous: the caller answers 404
    assert names.resolve("bge") == "c/bge"
    assert names.resolve("x/bge") == "x/bge"  # only a name without "/" is a segment


def test_served_names_win_over_aliases_and_segments() -> None:
    names = names_over({"a/bge", "bge"}, aliases={"a/bge": "bge", "x": "a/bge"})
    assert names.resolve("a/bge") == "a/bge"
    assert names.resolve("bge") == "bge"
    assert names.resolve("x") == "a/bge"
    assert names.listed_names() == ["a/bge", "bge", "x"]


def test_a_graphs_models_are_not_callable() -> None:
    names = names_over({"g"}, {"g_tokenizer_model", "plain"}, used={"g": frozenset({"g_tokenizer_model"})})
    assert names.callable_names() == ["g", "plain"]
    assert names.resolve("tokenizer_model") == "tokenizer_model"


def test_alias_flags_parse_and_refuse() -> None:
    assert parse_alias_flags(["a=x/y", " b = z ", "a=w"]) == {"a": "w", "b": "z"}
    for bad in ("novalue", "=x", "a="):
        with pytest.raises(ValueError, match="ALIAS=NAME"):
            parse_alias_flags([bad])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "cannot read the aliases"),
        ('{"aliases": {}}', 'one key "model_aliases"'),
        ('{"model_aliases": {"a": 1}}', "non-empty strings"),
    ],
)
def test_a_bad_alias_file_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "aliases.json").write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_alias_file(tmp_path / "config.json")
    assert read_alias_file(tmp_path / "elsewhere" / "config.json") == {}
