"""Plain OpenVINO models of a workspace (config.json and subconfig.json entries), per version."""

from ovserve.models.manager import LoadedModelVersion, ModelManager

__all__ = ["LoadedModelVersion", "ModelManager"]
