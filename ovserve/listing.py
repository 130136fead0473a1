"""What the repository says is served: listing, TFS version status, models by name.

`ServableListing` is the read-only half of the data plane (`ovserve.dataplane.DataPlane`
derives from it): every method reads the repository's status table or model manager, runs no
graph and is cheap enough for the event loop. Errors carry OVMS's texts.
"""

from __future__ import annotations

from ovserve.errors import NotFound
from ovserve.models.manager import LoadedModelVersion
from ovserve.repository import ServedView
from ovserve.status import VersionState, VersionStatus
from ovserve.types import ServableInfo


class ServableListing:
    """Reads `repository` (a `ServedView`) for the front ends."""

    def __init__(self, repository: ServedView) -> None:
        self.repository = repository

    def statuses(self) -> dict[str, list[VersionStatus]]:
        """Every servable's versions and states (the `/v1/config` document's content)."""
        return self.repository.statuses()

    def list_servables(self) -> list[ServableInfo]:
        """Every servable (graphs and models) with at least one AVAILABLE version, sorted by name."""
        return [s for s in self._servables() if s.available]

    def servable(self, name: str) -> ServableInfo:
        """One available servable.

        Raises:
            NotFound: `Model not found` (OVMS answers 500 for this; 404 is the right code).
        """
        for info in self._servables():
            if info.name == name and info.available:
                return info
        raise NotFound("Model not found")

    def _servables(self) -> list[ServableInfo]:
        result = []
        for name, statuses in sorted(self.repository.statuses().items()):
            available = tuple(s.version for s in statuses if s.state == VersionState.AVAILABLE)
            result.append(
                ServableInfo(
                    name=name,
                    kind="graph" if self.is_graph(name) else "model",
                    available=bool(available),
                    versions=available,
                )
            )
        return result

    def version_statuses(self, name: str, version: int | None = None) -> list[VersionStatus]:
        """The TFS status of one servable: every version, or only `version`, ascending.

        Raises:
            NotFound: `Model with requested name is not found` / `… version is not found`.
        """
        statuses = self.repository.statuses().get(name)
        if statuses is None:
            raise NotFound("Model with requested name is not found")
        chosen = sorted(
            (s for s in statuses if version is None or s.version == version), key=lambda s: s.version
        )
        if not chosen:
            raise NotFound("Model with requested version is not found")
        return chosen

    def is_graph(self, name: str) -> bool:
        """True for every graph name configured now or earlier (retired ones answer
        `Mediapipe is retired`)."""
        return self.repository.is_graph(name)

    def _model(self, name: str, version: int | None) -> LoadedModelVersion:
        return self.repository.models.resolve(name, version)

    def _model_versions(self, name: str) -> tuple[str, ...]:
        statuses = self.repository.statuses().get(name, [])
        return tuple(str(s.version) for s in statuses if s.state == VersionState.AVAILABLE)
