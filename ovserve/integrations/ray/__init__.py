"""Scale-out on Ray Serve: an ovserve workspace as a Ray Serve application with N replicas.

Needs the `ray` extra (`pip install 'ovserve[ray]'`); the server never imports this package.

    from ray import serve
    from ovserve.integrations.ray import build_app

    serve.run(build_app("models/config.json", replicas=2))

or, from a shell, `python -m ovserve.integrations.ray --config_path models/config.json
--rest_port 8000 --replicas 2`, or with Ray's own tools, `serve run
ovserve.integrations.ray:app_builder config_path=models/config.json`. See docs/ray.md.
"""

from ovserve.integrations.ray.builder import app_builder
from ovserve.integrations.ray.deployment import REPLICA_HEADER, OvserveReplica, build_app

__all__ = ["REPLICA_HEADER", "OvserveReplica", "app_builder", "build_app"]
