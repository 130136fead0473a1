"""Plain OpenVINO models of a workspace (config.json and subconfig.json entries), per version."""

from ovserve.models.manager import ModelManager, SyncResult
from ovserve.models.version import LoadedModelVersion

__all__ = ["LoadedModelVersion", "ModelManager", "SyncResult"]
