"""The names a client may call: served names, aliases, and a unique last path segment.

OVMS answers only the exact served name. Clients send others: MTEB's OpenAI wrapper keeps the
part after the last `/` (`all-MiniLM-L6-v2` for `sentence-transformers/all-MiniLM-L6-v2`),
and code written for OpenAI sends `text-embedding-3-small`. `ModelNames.resolve` maps such a
name to a served one, in this order:

1. a served name (a graph or a model, in any state) is itself: aliases never shadow servables;
2. an alias (`--model_alias ALIAS=NAME`, or the workspace's side file `aliases.json`) is its
   target, whether or not the target is served now (a reload may add it);
3. a name without `/` that is the last path segment of exactly one callable name (graphs and
   client-facing models, see `callable_names`) is that name; when two share it, it stays
   unresolved, so that the answer never depends on which one happens to be loaded first;
4. anything else is itself, and the caller answers its usual 404.

Aliases apply on the OpenAI (`/v3`) and TEI routes and in `/v3/models`; KServe, TFS and
`/v1/config` speak served names only, as OVMS does.

`aliases.json` lives beside `config.json` rather than in it because OVMS validates
`config.json` against a schema with `additionalProperties: false` at every level: an extra key
would make the same workspace fail to start on OVMS. OVMS never reads other files of the
directory, so the side file is harmless to it. Its shape:
`{"model_aliases": {"text-embedding-3-small": "sentence-transformers/all-MiniLM-L6-v2"}}`.
It is read at start-up; a change needs a restart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ovserve.errors import ConfigError
from ovserve.status import VersionState

if TYPE_CHECKING:  # the command line parses aliases without loading OpenVINO
    from ovserve.repository import ServedView

ALIASES_FILE = "aliases.json"


def parse_alias_flags(values: Sequence[str]) -> dict[str, str]:
    """`ALIAS=NAME` strings (the `--model_alias` flag) as a mapping; a later alias wins.

    Raises:
        ValueError: an item without `=`, or with an empty side.
    """
    aliases: dict[str, str] = {}
    for value in values:
        alias, sep, target = value.partition("=")
        if not sep or not alias.strip() or not target.strip():
            raise ValueError(f"expected ALIAS=NAME, e.g. text-embedding-3-small=my/graph, got {value!r}")
        aliases[alias.strip()] = target.strip()
    return aliases


def read_alias_file(config_path: Path | None) -> dict[str, str]:
    """The aliases of `aliases.json` beside `config_path`; empty when there is none.

    Raises:
        ConfigError: the file exists but is not `{"model_aliases": {str: str}}`.
    """
    if config_path is None:
        return {}
    path = config_path.parent / ALIASES_FILE
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the aliases: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"model_aliases"}:
        raise ConfigError(f'{path}: expected an object with one key "model_aliases"')
    table = doc["model_aliases"]
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in table.items()
    ):
        raise ConfigError(f"{path}: model_aliases: expected an object of non-empty strings (alias: name)")
    return dict(table)


def last_segment(name: str) -> str:
    return name.rsplit("/", 1)[-1]


class ModelNames:
    """Resolves client names against one repository (cheap; called on the event loop)."""

    def __init__(self, repository: ServedView, aliases: Mapping[str, str] | None = None) -> None:
        self._repository = repository
        self.aliases: Mapping[str, str] = dict(aliases or {})

    def resolve(self, name: str) -> str:
        """The served name `name` stands for (itself when nothing else applies; see the module)."""
        if self._is_served(name):
            return name
        target = self.aliases.get(name)
        if target is not None:
            return target
        if "/" not in name:
            matches = [n for n in self.callable_names() if last_segment(n) == name]
            if len(matches) == 1:
                return matches[0]
        return name

    def callable_names(self) -> list[str]:
        """Available graphs and plain models a client calls directly, sorted.

        A graph's own models (declared in its `subconfig.json`, or resolved by it when it
        loaded) are left out: they are parts of the graph, listed in `/v1/config` and KServe.
        """
        statuses = self._repository.statuses()
        internal = self._internal_models(statuses)
        return sorted(
            name
            for name, versions in statuses.items()
            if name not in internal and any(s.state == VersionState.AVAILABLE for s in versions)
        )

    def listed_names(self) -> list[str]:
        """`callable_names` plus every alias whose target is one of them, sorted (`/v3/models`)."""
        names = self.callable_names()
        served = set(names)
        aliases = [
            alias for alias, target in self.aliases.items() if target in served and alias not in served
        ]
        return sorted([*names, *aliases])

    def _is_served(self, name: str) -> bool:
        # Graphs first: a graph request (the common case) then needs no copy of every status.
        return self._repository.is_graph(name) or name in self._repository.statuses()

    def _internal_models(self, names: Iterable[str]) -> set[str]:
        workspace = self._repository.workspace
        internal = {m.name for g in workspace.graphs for m in g.models}
        internal.update(m.name for m in workspace.models if m.graph is not None)
        for name in names:
            if self._repository.is_graph(name):
                internal.update(self._repository.models_used_by(name))
        return internal
