"""Typed application state keys."""

from __future__ import annotations

from aiohttp import web

from ovserve.dataplane import DataPlane
from ovserve.repository import Repository

REPOSITORY = web.AppKey("repository", Repository)
DATAPLANE = web.AppKey("dataplane", DataPlane)
