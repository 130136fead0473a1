"""Start-up refuses a workspace that serves nothing: every entry was rejected or failed to load.

One bad entry disables only itself (README, "Workspaces and graphs"), but a server none of
whose entries can serve would run, pass its liveness probe and answer every request with an
error. At start-up that is a deployment mistake, so the process exits with code 1 and logs the
reason of each entry instead. A workspace without entries (`"model_config_list": []`) is not
one: OVMS starts on it and serves nothing, and so does ovserve. Reloads never exit: a running
server keeps what it serves (`ovserve.lifecycle`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ovserve.status import StatusCode, VersionState, VersionStatus
from ovserve.workspace import Workspace


def unservable_reasons(
    workspace: Workspace, statuses: Mapping[str, Sequence[VersionStatus]]
) -> list[str] | None:
    """One line per entry of `workspace` when none of them can serve; None when one can.

    An entry serves when it has an AVAILABLE version in `statuses` (the repository's, after
    the start-up load; pass `{}` before it to ask whether anything is left to load at all).
    Only entries of the config count: a graph whose subconfig models loaded but which failed
    itself does not serve. None too for a workspace without entries.
    """
    if not (workspace.models or workspace.graphs or workspace.rejected):
        return None
    reasons = [entry.message for entry in workspace.rejected]
    for model in workspace.models:
        versions = statuses.get(model.name, ())
        if any(s.state == VersionState.AVAILABLE for s in versions):
            return None
        reasons.append(f'{model.origin}: model "{model.name}": {_failure(versions)}')
    for graph in workspace.graphs:
        versions = statuses.get(graph.name, ())
        if any(s.state == VersionState.AVAILABLE for s in versions):
            return None
        reasons.append(f'{graph.origin}: graph "{graph.name}": {_failure(versions)}')
    return reasons


def _failure(versions: Sequence[VersionStatus]) -> str:
    """The failures of one servable's versions, on one line."""
    details = [s.details for s in versions if s.code != StatusCode.OK and s.details]
    if not details:
        return "not loaded"
    return "; ".join(" ".join(d.split()) for d in details)
