"""`GET /docs`: Swagger UI rendering `/openapi.json`, from the files of the PyPI package
`swagger-ui-bundle-v2` (Swagger UI 5.x, which renders OpenAPI 3.1). Nothing is fetched from a
CDN, so the page works offline and behind a firewall. `GET /docs/{file}` serves only the
package files the page uses.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from aiohttp import web

from ovserve.errors import NotFound

_FILES = Path(swagger_ui_bundle.swagger_ui_path)
_SERVED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
_PAGE = b"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ovserve API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
</script>
</body>
</html>
"""


async def page(request: web.Request) -> web.Response:
    return web.Response(body=_PAGE, content_type="text/html")


async def asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["file"]
    if name not in _SERVED:
        raise NotFound("Requested REST resource not found")
    return web.FileResponse(_FILES / name)


ROUTES = [web.get("/docs", page), web.get("/docs/{file}", asset)]
