"""Plain OpenVINO models of a workspace (config.json and subconfig.json entries), per version."""

from ovserve.models.loading import LoadedModelVersion
from ovserve.models.manager import ModelManager, SyncResult

__all__ = ["LoadedModelVersion", "ModelManager", "SyncResult"]
