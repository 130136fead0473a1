"""The config API: `GET /v1/config` and `POST /v1/config/reload`.

As OVMS documents them (its docs: online_config_changes.md).
"""

from __future__ import annotations

import json

from aiohttp import web

from ovserve.dataplane import ReloadError
from ovserve.errors import ErrorCode
from ovserve.frontends.rest.state import DATAPLANE
from ovserve.status import status_document

# The reload endpoint answers at once, so a version directory found mid-copy gets a second
# look after this pause instead of one poll period later (see `SettleTracker`).
RELOAD_SETTLE_PAUSE_SECONDS = 0.3
# OVMS: invalid JSON or schema → 412 (JSON_INVALID); a missing file and the rest → 500.
_RELOAD_ERROR_STATUS = {ErrorCode.FAILED_PRECONDITION: 412}


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(status_document(request.app[DATAPLANE].statuses()))


async def reload_config(request: web.Request) -> web.Response:
    """Re-read the config if it changed and rescan versions, off the event loop.

    201 when something was loaded, replaced or retired, 200 when not; the body is every
    status. A config that cannot be applied changes nothing and gets OVMS's error body.
    """
    dataplane = request.app[DATAPLANE]
    try:
        outcome = await dataplane.reload(pause=RELOAD_SETTLE_PAUSE_SECONDS)
    except ReloadError as exc:
        # OVMS writes this body with a tab indent, unlike its other errors.
        body = json.dumps({"error": exc.message}, indent="\t")
        return web.json_response(text=body, status=_RELOAD_ERROR_STATUS.get(exc.code, 500))
    return web.json_response(status_document(dataplane.statuses()), status=201 if outcome.reloaded else 200)


ROUTES = [web.get("/v1/config", get_config), web.post("/v1/config/reload", reload_config)]
