"""The aiohttp REST front end."""

from ovserve.frontends.rest.app import make_app

__all__ = ["make_app"]
