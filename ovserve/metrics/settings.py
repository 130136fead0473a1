"""Whether metrics are on, and which families, from the flags and `config.json` together.

`--metrics_enable` or `monitoring.metrics.enable: true` turns them on; `--metrics_list` wins
over `monitoring.metrics.metrics_list` when both are given. Read once at start-up: a reload
of `config.json` does not change them.
"""

from __future__ import annotations

from ovserve.config import ServerConfig
from ovserve.errors import ConfigError
from ovserve.metrics.families import select
from ovserve.workspace import Workspace

MISSING_REST_PORT = "Missing rest_port parameter in server CLI"


def enabled_families(config: ServerConfig, workspace: Workspace) -> frozenset[str] | None:
    """The families to export, or None when metrics are off.

    Raises:
        ConfigError: `Invalid name in metrics_list: …`, or metrics enabled without a REST port
            (`Missing rest_port parameter in server CLI`).
    """
    section = workspace.metrics
    enable = config.metrics_enable or (section is not None and section.enable)
    if not enable:
        return None
    names = config.metrics_list or (section.metrics_list if section is not None else ())
    families = select(names)
    if config.rest_port is None:
        raise ConfigError(f"{MISSING_REST_PORT}: metrics are served on the REST port")
    return families
