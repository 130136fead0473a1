"""Typed application state keys."""

from __future__ import annotations

from aiohttp import web

from ovserve.config import CorsSettings
from ovserve.dataplane import DataPlane
from ovserve.security.api_key import ApiKey

DATAPLANE = web.AppKey("dataplane", DataPlane)
API_KEY = web.AppKey("api_key", ApiKey)
"""Present only when an API key is configured."""
CORS = web.AppKey("cors", CorsSettings)
ACCESS_LOG = web.AppKey("access_log", bool)
