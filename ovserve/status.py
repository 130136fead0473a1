"""Servable states and the status document of `GET /v1/config`, in OVMS's shape.

States and error codes keep the TensorFlow Serving numbering OVMS uses. ovserve adds one
key, `status.error_details`, with the human-readable reason of a failure; OVMS clients that
read only `error_code`/`error_message` see exactly what OVMS would send.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class VersionState(enum.IntEnum):
    START = 10
    LOADING = 20
    AVAILABLE = 30
    UNLOADING = 40
    END = 50


class StatusCode(enum.IntEnum):
    OK = 0
    UNKNOWN = 2
    FAILED_PRECONDITION = 9


@dataclass(frozen=True, kw_only=True)
class VersionStatus:
    """The state of one version of one servable; `details` explains a failure."""

    version: int
    state: VersionState
    code: StatusCode = StatusCode.OK
    details: str = ""

    def to_json(self) -> dict[str, object]:
        status: dict[str, object] = {"error_code": self.code.name, "error_message": self.code.name}
        if self.details:
            status["error_details"] = self.details
        return {"version": str(self.version), "state": self.state.name, "status": status}


def loading(version: int = 1) -> VersionStatus:
    return VersionStatus(version=version, state=VersionState.LOADING)


def available(version: int = 1) -> VersionStatus:
    return VersionStatus(version=version, state=VersionState.AVAILABLE)


def load_failed(details: str, *, version: int = 1, graph: bool = False) -> VersionStatus:
    """A failed load: OVMS reports LOADING with UNKNOWN (models) or FAILED_PRECONDITION (graphs)."""
    code = StatusCode.FAILED_PRECONDITION if graph else StatusCode.UNKNOWN
    return VersionStatus(version=version, state=VersionState.LOADING, code=code, details=details)


def status_document(servables: Mapping[str, Sequence[VersionStatus]]) -> dict[str, object]:
    """One key per servable name, each the TFS `GetModelStatusResponse` shape, versions ascending."""
    return {
        name: {"model_version_status": [s.to_json() for s in sorted(versions, key=lambda s: s.version)]}
        for name, versions in sorted(servables.items())
    }
