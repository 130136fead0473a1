"""`GET /v2/models/{name}[/versions/{v}]/config`: Triton's model-configuration extension
(`ovserve.model_config`), the JSON `tritonclient.http.get_model_config` and perf_analyzer read."""

from __future__ import annotations

from aiohttp import web

from ovserve.frontends.rest.jsonio import dumps, json_bytes_response
from ovserve.frontends.rest.kserve_v2 import split_model_path
from ovserve.frontends.rest.state import DATAPLANE
from ovserve.model_config import ModelConfigs

CONFIGS = web.AppKey("model_configs", ModelConfigs)


async def get_config(request: web.Request) -> web.Response:
    name, version, _ = split_model_path(request.match_info["path"], ("config",))
    if CONFIGS not in request.app:
        raise RuntimeError("the model configuration route was added without its state")
    return json_bytes_response(dumps(await request.app[CONFIGS].config(name, version)))


def register(app: web.Application) -> None:
    """Add the route (before KServe's catch-all `/v2/models/{path}`) and its state."""
    app[CONFIGS] = ModelConfigs(app[DATAPLANE])
    app.router.add_get(r"/v2/models/{path:.+/config}", get_config)
