"""Apply a workspace to the repository: retire, (re)load, swap, then drain. Every version swap
and every graph (re)load is decided here.

Start-up is the first pass, from a repository that serves nothing yet (`Reloader.start`); each
later pass goes from the served workspace to the one re-read from disk (`Reloader.reload`).
Order within one pass, chosen so that no request ever finds nothing to serve:

1. entries removed from the config are retired (requests get OVMS's retired answers);
2. every model syncs with its version directories (new versions load and warm up while the
   old ones serve, then one swap);
3. graphs that are new, changed on disk, or whose models now serve other objects are loaded
   again (OVMS's session calculator binds a model version at graph load, so a graph follows
   its models by being reloaded) and swapped in; a failed load keeps the previous graph, and
   the replaced model versions that graph still runs on stay UNLOADING (not END) until it is
   replaced or retired;
4. replaced graphs drain (wait for the requests holding them) and close, then replaced model
   versions drain and go from UNLOADING to END.

Rules of a swap: a new object (model version or graph) is loaded and warmed up before it is
installed; installing is one assignment under the table's lock, so a request sees either the
old or the new object, never none; the old one is closed only after the requests that leased
it have returned (drain). A model version no graph may still run on goes UNLOADING → END;
one a kept graph still runs on stays UNLOADING.

Blocking; runs under `Repository.lock` on a worker thread.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from ovserve.lifecycle.build import GraphBuilder
from ovserve.models import LoadedModelVersion
from ovserve.repository import Repository, ServableGraph
from ovserve.workspace import GraphSpec, ModelSpec, Workspace

log = logging.getLogger(__name__)


def apply_workspace(
    repository: Repository,
    builder: GraphBuilder,
    new: Workspace | None,
    forced: set[str],
    settled: Callable[[Path], bool],
) -> bool:
    """Bring `repository` to `new` (None: keep the workspace, rescan versions only).

    `forced`: graphs whose files changed on disk. Returns True when anything was loaded,
    replaced or retired. Never raises for a servable's problem (it is recorded in its status).
    """
    old = repository.workspace
    target = old if new is None else _keep_rejected_servables(old, new, repository)
    changed = False
    old_graphs = {g.name: g for g in old.graphs}
    old_models = {m.name: m for m in old.all_models()}
    target_models = {m.name: m for m in target.all_models()}
    replaced_graphs: list[ServableGraph] = []
    released: list[LoadedModelVersion] = []
    if new is not None:
        for name in old_graphs.keys() - {g.name for g in target.graphs}:
            retired = repository.graphs.retire(name)
            replaced_graphs += [retired] if retired is not None else []
            released += repository.release_held(name)
            changed = True
        for name in old_models.keys() - target_models.keys():
            released += repository.models.retire(name)
            changed = True
        repository.set_rejected(target)
    before = {name: repository.models.served(name) for name in target_models}
    for spec in target.all_models():
        previous = old_models.get(spec.name)
        result = repository.models.sync(spec, settled, reload_all=_settings_changed(previous, spec))
        changed |= result.changed
        released += result.released
    for graph_spec in target.graphs:
        if not _graph_needs_load(
            graph_spec, old_graphs.get(graph_spec.name), forced, repository, before, new is not None
        ):
            continue
        repository.graphs.loading(graph_spec.name)
        loaded = builder.build(repository, graph_spec)
        if loaded is not None:
            previous_graph = repository.graphs.install(graph_spec.name, loaded)
            replaced_graphs += [previous_graph] if previous_graph is not None else []
            released += repository.release_held(graph_spec.name)
            changed = True
        elif repository.graphs.current(graph_spec.name) is not None:
            released = repository.hold_used(graph_spec.name, released)
    repository.workspace = target
    for graph in replaced_graphs:
        repository.graphs.drain(graph)
    repository.models.drain(released)
    return changed


def _settings_changed(previous: ModelSpec | None, spec: ModelSpec) -> bool:
    """True when a model must be recompiled: anything but its version policy or origin changed."""
    if previous is None:
        return False
    return dataclasses.replace(previous, version_policy=spec.version_policy, origin=spec.origin) != spec


def _graph_needs_load(
    spec: GraphSpec,
    previous: GraphSpec | None,
    forced: set[str],
    repository: Repository,
    before: dict[str, tuple[LoadedModelVersion, ...]],
    reread: bool,
) -> bool:
    if previous is None or previous != spec or spec.name in forced:
        return True
    if reread and repository.graphs.has_failed(spec.name):
        return True  # the config changed: a graph that failed (or was kept) gets another try
    if repository.graphs.current(spec.name) is None and not repository.graphs.has_failed(spec.name):
        return True  # neither served nor failed: e.g. re-added after being retired
    # Its subconfig models and whatever else it resolved (a config.json model named by a
    # session calculator's servable_name follows the same rule).
    used = {m.name for m in spec.models} | repository.models_used_by(spec.name)
    return any(repository.models.served(name) != before.get(name) for name in used)


def _keep_rejected_servables(old: Workspace, new: Workspace, repository: Repository) -> Workspace:
    """`new`, plus the served graphs and models whose new entry is invalid: they keep serving.

    OVMS skips a bad entry; replacing a working servable by nothing would turn a typo into an
    outage, so the previous definition stays and its status reports the problem.
    """
    rejected = {r.name: r.message for r in new.rejected if r.name}
    names = {g.name for g in new.graphs} | {m.name for m in new.all_models()}
    kept_graphs = tuple(g for g in old.graphs if g.name in rejected and g.name not in names)
    kept_models = tuple(m for m in old.models if m.name in rejected and m.name not in names)
    for graph in kept_graphs:
        if repository.graphs.current(graph.name) is not None:
            repository.graphs.failed(graph.name, rejected[graph.name])
    if not kept_graphs and not kept_models:
        return new
    keep = {g.name for g in kept_graphs} | {m.name for m in kept_models}
    return dataclasses.replace(
        new,
        graphs=new.graphs + kept_graphs,
        models=new.models + kept_models,
        rejected=tuple(r for r in new.rejected if r.name not in keep),
    )
